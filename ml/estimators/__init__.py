"""One package per model kind (profitability, churn, ...), each with the same rooms:
`dataset.py` builds its frame from the KPI store, `train.py` registers a train function with
the model registry (`@trainer("<kind>")`), `predict.py` loads the active version through the
registry and writes prediction rows."""
