"""Prophet as an ensemble member, with holidays when the caller names a country or passes a frame.

Only for dated series (Prophet needs timestamps). Its seasonalities are left to Prophet's own
"auto" rules (yearly with two years of history, weekly for sub-weekly data with two weeks,
daily for sub-daily data with two days) when the series is seasonal, and all are off when it is
not. Intervals are Prophet's own: quantiles of its predictive samples (trend-change and noise
simulation), 400 samples for both levels from one draw.

Holidays: Prophet matches a holiday to the rows of its date. A weekly or monthly series has one
row per period, labelled by a single date, so a holiday on a Wednesday would match no row; each
holiday is therefore moved to the label of the period that contains it (a week or month labelled
by its end -- pandas' convention for `W` and `ME` -- rolls forward, one labelled by its start
rolls back). Daily and hourly series keep the holiday's own date.

Known regressors (`History.regressors`): each column that varies over the fitted history is an
extra regressor (`add_regressor`, Prophet's defaults: additive, prior scale 10, standardised
unless 0/1), named `regressor_<i>` inside Prophet so that no caller's name can clash with
Prophet's own columns; the forecast's frame carries their future values. Prophet is refitted
at every origin, so each backtest origin fits the columns that vary up to it.

Prophet is refitted at every backtest origin (it has no state to filter): the slowest member by
far, and importing it costs about a second once per process. Three things cut its CPU without
changing a number (tests/test_forecasting.py compares with stock Prophet): the fit's component
matrix is built with numpy instead of a pandas crosstab (`_component_matrix`, in a subclass), a
forecast builds the features once for the point forecast and the samples instead of twice and
reuses the fit's component matrix (`_ProphetFit.forecast`: 25 -> 8 ms of CPU), and a country's
holidays are made once per process and years (`_country_holidays`). Per weekly series of 156
weeks (five fits and five forecasts), measured in one process: 0.18-0.19 s of Python CPU before,
0.10-0.11 s after, plus 0.035 s in cmdstan either way.

On 1 December 2026, again without changing a number: cmdstan is run by `_CmdStanRunner` instead
of cmdstanpy, with its files in /dev/shm; plain frames are prepared in numpy
(`_setup_plain_frame`); the component matrix is kept per process (`_cached_component_matrix`).
Prophet-only forecasts of the bench's series, one process: ~150 ms of CPU a series before
(cmdstan's processes included), ~110 ms after: about 54 ms of Python (preprocessing 18 ms,
forecasts 19 ms of which 8 ms drawing the samples) and 42 ms of cmdstan.

On 2 December 2026, again without changing a number: the samples are drawn as one matrix and
the linear trend's samples and the Fourier terms computed on numpy arrays (`FastProphet`,
`_sample_linear_trends`), and `prophet.plot` is imported only when something plots
(`_defer_plotting_import`: Prophet's import 1.1 -> 0.54 s of CPU, paid by every pool worker).
Later that day, again without changing a number: a plain frame's automatic seasonalities and
changepoint grid come from numpy arrays (`_set_auto_seasonalities`, `_set_changepoint_grid`;
with a copy of Prophet's `preprocess` for plain frames, since dropped so as not to keep its
code here line for line, 3.0 -> 2.3 ms a fit), and a forecast without
holidays or regressors stacks its Fourier terms as arrays (`_features`: 3.5 -> 2.9 ms a forecast);
tests/test_forecasting_speed_equivalence.py compares them with stock Prophet.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from functools import lru_cache

import numpy as np
import pandas as pd

from ml.forecasting.bands import Band
from ml.forecasting.history import HOLIDAY_COLUMN, History
from ml.forecasting.holiday_days import weekday_holiday_dates

SAMPLES = 400


def _quiet_logs() -> None:
    # cmdstanpy logs two INFO lines per fit; a batch of thousands of fits would drown the log.
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _timestamps(labels: pd.Index) -> pd.DatetimeIndex:
    if isinstance(labels, pd.PeriodIndex):
        return labels.to_timestamp(how="start")
    if isinstance(labels, pd.DatetimeIndex):
        return labels.tz_localize(None) if labels.tz is not None else labels
    raise ValueError("prophet needs a dated series")


def _period_label(dates: pd.Series, history: History) -> pd.Series:
    """Each date moved to the label of the period containing it (see the module docstring)."""
    labels = history.labels
    if isinstance(labels, pd.PeriodIndex):
        return dates.dt.to_period(labels.freq).dt.start_time
    offset = history.offset
    if offset is None or isinstance(offset, pd.offsets.Tick):
        return dates
    kind = type(offset).__name__
    if "Begin" in kind:
        return dates.map(offset.rollback)
    if "End" in kind or isinstance(offset, pd.offsets.Week):
        return dates.map(offset.rollforward)
    return dates


@lru_cache(maxsize=64)
def _country_holidays(country: str, first_year: int, last_year: int) -> pd.DataFrame:
    """The country's holidays in those years (cached: a forecast fits Prophet five times, at its
    origin and four backtest origins, mostly over the same years; callers copy it)."""
    from prophet.make_holidays import make_holidays_df

    return make_holidays_df(year_list=list(range(first_year, last_year + 1)), country=country)


def holiday_frame(history: History) -> pd.DataFrame | None:
    country = history.extras.get("country")
    frame = history.extras.get("holidays")
    parts = []
    if country:
        stamps = _timestamps(history.labels)
        parts.append(_country_holidays(country, stamps[0].year, stamps[-1].year + 2).copy())
    if frame is not None:
        parts.append(pd.DataFrame(frame))
    if not parts:
        return None
    holidays = pd.concat(parts, ignore_index=True)
    holidays["ds"] = _period_label(pd.to_datetime(holidays["ds"]), history)
    return holidays.drop_duplicates(subset=["ds", "holiday"]).reset_index(drop=True)


def weekday_holidays(history: History, labels: pd.Index) -> np.ndarray | None:
    """For each of `labels` (the history's periods and its horizon's), how many weekday holidays
    fall in that period: the country's (`holiday_days`, the roster's definition, from the year
    before the first label) and the caller's own frame's on Monday to Friday, a date counted
    once. The regressor ARIMA takes for them (`history.HOLIDAY_COLUMN`); a weekend holiday is left
    out because the desk is shut then anyway. None without holidays, or for an undated series."""
    if not isinstance(history.labels, pd.DatetimeIndex | pd.PeriodIndex):
        return None
    country, frame = history.extras.get("country"), history.extras.get("holidays")
    if not country and frame is None:
        return None
    stamps = _timestamps(labels)
    dates = []
    if country:
        dates.append(pd.to_datetime(weekday_holiday_dates(country, stamps[0].year - 1, stamps[-1].year + 1)))
    if frame is not None:
        own = pd.DatetimeIndex(pd.to_datetime(pd.DataFrame(frame)["ds"])).normalize()
        dates.append(own[own.weekday < 5])
    days = pd.Series(pd.DatetimeIndex(np.concatenate(dates)).unique())
    counts = _period_label(days, history).value_counts()
    return counts.reindex(stamps, fill_value=0).to_numpy(dtype=float)


def _features(model, future: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Prophet's regression features for `future` (as a matrix) and which columns are additive
    or multiplicative: `make_all_seasonality_features` without its last step, the component
    matrix (a pandas crosstab, half a forecast's cost), which for a fitted model must equal the
    one fit() stored -- Prophet raises when it does not -- so that one is used. Without holidays,
    extra regressors or conditional seasonalities the features are only the seasonalities'
    Fourier terms, side by side in the seasonalities' order: they are stacked as arrays instead
    of a DataFrame per seasonality and a concat (the same numbers; 0.4 ms a forecast here)."""
    plain = (
        model.holidays is None
        and model.country_holidays is None
        and not model.extra_regressors
        and all(props["condition_name"] is None for props in model.seasonalities.values())
    )
    if plain:
        blocks = [
            model.fourier_series(future["ds"], props["period"], props["fourier_order"])
            for props in model.seasonalities.values()
        ]
        # Column-major, as a DataFrame's `.values` is: the matrix products below then take the
        # same BLAS path and give the same bits.
        matrix = np.asfortranarray(np.hstack(blocks) if blocks else np.zeros((future.shape[0], 1)))
    else:
        parts = []
        for name, props in model.seasonalities.items():
            features = model.make_seasonality_features(future["ds"], props["period"], props["fourier_order"], name)
            if props["condition_name"] is not None:
                features[~future[props["condition_name"]]] = 0
            parts.append(features)
        holidays = model.construct_holiday_dataframe(future["ds"])
        if len(holidays) > 0:
            parts.append(model.make_holiday_features(future["ds"], holidays)[0])
        for name in model.extra_regressors:
            parts.append(pd.DataFrame(future[name]))
        if not parts:
            parts.append(pd.DataFrame({"zeros": np.zeros(future.shape[0])}))
        matrix = pd.concat(parts, axis=1).values
    components = model.train_component_cols
    if len(components) != matrix.shape[1]:
        raise ValueError("prophet's features do not match the fitted model's")
    return matrix, components


def _component_matrix(model, seasonal_features: pd.DataFrame, modes: dict) -> tuple[pd.DataFrame, dict]:
    """Prophet's `regressor_column_matrix` without pandas' crosstab (a third of a fit's Python
    time here): the same 0/1 matrix of feature columns x components (each seasonality, holiday
    and regressor, and the additive / multiplicative / holiday / regressor groups), built with
    numpy. tests/test_forecasting.py checks it equals Prophet's own."""
    pairs = [(col, name.split("_delim_")[0]) for col, name in enumerate(seasonal_features.columns)]

    def group(pairs: list, name: str, members) -> list:
        wanted = set(members)
        cols = list(dict.fromkeys(col for col, component in pairs if component in wanted))
        return pairs + [(col, name) for col in cols]

    if model.train_holiday_names is not None:
        pairs = group(pairs, "holidays", model.train_holiday_names.unique())
    for mode in ("additive", "multiplicative"):
        pairs = group(pairs, mode + "_terms", modes[mode])
        regressors = [name for name, props in model.extra_regressors.items() if props["mode"] == mode]
        pairs = group(pairs, "extra_regressors_" + mode, regressors)
        modes[mode].append(mode + "_terms")
        modes[mode].append("extra_regressors_" + mode)
    modes[model.holidays_mode].append("holidays")
    cols = sorted({col for col, _ in pairs})
    components = sorted({component for _, component in pairs})
    counts = np.zeros((len(cols), len(components)), dtype=np.int64)
    row, column = {c: i for i, c in enumerate(cols)}, {c: i for i, c in enumerate(components)}
    for col, component in pairs:
        counts[row[col], column[component]] += 1
    matrix = pd.DataFrame(
        counts, index=pd.Index(cols, name="col"), columns=pd.Index(components, dtype=object, name="component")
    )
    # From here on Prophet's own code.
    for name in ["additive_terms", "multiplicative_terms"]:
        if name not in matrix:
            matrix[name] = 0
    matrix.drop("zeros", axis=1, inplace=True, errors="ignore")
    if max(matrix["additive_terms"] + matrix["multiplicative_terms"]) > 1:
        raise Exception("A bug occurred in seasonal components.")
    if model.train_component_cols is not None:
        matrix = matrix[model.train_component_cols.columns]
        if not matrix.equals(model.train_component_cols):
            raise Exception("A bug occurred in constructing regressors.")
    return matrix, modes


class _CmdStanRunner:
    """Stands in for Prophet's stan backend (`prophet.models.CmdStanPyBackend`) and runs the same
    compiled model with the same arguments, without cmdstanpy in between.

    cmdstanpy costs more Python time per fit than cmdstan's optimisation itself: a new
    `CmdStanModel` with every Prophet object, argument validation, the data converted element by
    element before its JSON is written, stdout read line by line while it polls the process,
    temporary files made and removed each run. Here the data and inits Prophet prepares
    (`CmdStanPyBackend.prepare_data`) are written with the JSON encoder cmdstanpy uses (stanio's),
    the executable runs with cmdstanpy's command line for `optimize` (Newton below 100 points,
    L-BFGS otherwise, 10,000 iterations, Newton again when L-BFGS fails -- Prophet's own rules),
    its console discarded, and the optimum is read from the last row of its CSV, parsed to the
    same floats. One directory of three files per process (in /dev/shm when there is one),
    overwritten by each fit.
    tests/test_forecasting.py checks the member against stock Prophet."""

    def __init__(self, executable: str):
        self.executable = executable
        self.newton_fallback = True
        self.stan_fit = None
        # In memory where the system has it: on this machine's disk, writing and truncating the
        # three files cost 15 ms of (system) CPU a series of five fits.
        memory = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        # One directory per process, its files overwritten by each fit (a temporary directory per
        # fit cost 2.4 ms of CPU a fit, removing the files after each fit 1.6 ms). It is removed
        # at exit; a pool worker killed without its exit handlers leaves it behind, so the
        # directories of processes that no longer run are removed when a runner starts.
        _remove_stale_directories(memory or tempfile.gettempdir())
        self.directory = tempfile.mkdtemp(prefix=f"prophet-fits-{os.getpid()}-", dir=memory)
        atexit.register(shutil.rmtree, self.directory, True)
        # The files are shared by the process's threads (a web or worker thread may forecast
        # beside another): one fit at a time writes and reads them.
        self.lock = threading.Lock()

    @staticmethod
    def get_type() -> str:
        return "CMDSTANPY"

    def fit(self, stan_init: dict, stan_data: dict, **kwargs) -> dict:
        from prophet.models import CmdStanPyBackend

        if kwargs:
            raise TypeError(f"unsupported fit options {sorted(kwargs)}")
        inits, data = CmdStanPyBackend.prepare_data(stan_init, stan_data)
        files = {name: os.path.join(self.directory, name) for name in ("data.json", "init.json", "output.csv")}
        algorithm = "newton" if data["T"] < 100 else "lbfgs"
        with self.lock:
            return self._fit_files(files, data, inits, algorithm)

    def _fit_files(self, files: dict, data: dict, inits: dict, algorithm: str) -> dict:
        from prophet.models import CmdStanPyBackend
        from stanio.json import json as stan_json

        for name, content in (("data.json", data), ("init.json", inits)):
            with open(files[name], "w") as handle:
                stan_json.dump(content, handle)
        try:
            row, names = self._optimize(files, algorithm)
        except RuntimeError:
            if not self.newton_fallback or algorithm == "newton":
                raise
            logging.getLogger("prophet").warning("Optimization terminated abnormally. Falling back to Newton.")
            row, names = self._optimize(files, "newton")
        params = CmdStanPyBackend.stan_to_dict_numpy(names, row)
        return {name: value.reshape((1, -1)) for name, value in params.items()}

    def _optimize(self, files: dict, algorithm: str) -> tuple[np.ndarray, list[str]]:
        command = [
            self.executable,
            "data",
            f"file={files['data.json']}",
            f"init={files['init.json']}",
            "output",
            f"file={files['output.csv']}",
            "method=optimize",
            f"algorithm={algorithm}",
            "iter=10000",
        ]
        if os.path.exists(files["output.csv"]):
            os.remove(files["output.csv"])
        done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise RuntimeError(f"cmdstan optimize failed ({done.returncode}): {done.stderr.decode()[-300:]}")
        with open(files["output.csv"]) as handle:
            rows = [line for line in handle if line.strip() and not line.startswith("#")]
        names = rows[0].strip().split(",")
        values = np.array([float(value) for value in rows[-1].strip().split(",")])
        return values, names


def _remove_stale_directories(parent: str) -> None:
    """Runner directories (`prophet-fits-<pid>-...`) of processes that no longer run."""
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        parts = entry.split("-")
        if entry.startswith("prophet-fits-") and len(parts) >= 4 and parts[2].isdigit():
            if not _running(int(parts[2])):
                shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _running(pid: int) -> bool:
    """Whether process `pid` exists (signal 0 checks without sending; no /proc needed)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


_RUNNERS: dict[int, _CmdStanRunner] = {}


def _runner() -> _CmdStanRunner:
    """This process's runner (a forked worker makes its own directory)."""
    pid = os.getpid()
    if pid not in _RUNNERS:
        import importlib.resources

        executable = importlib.resources.files("prophet") / "stan_model" / "prophet_model.bin"
        _RUNNERS[pid] = _CmdStanRunner(str(executable))
    return _RUNNERS[pid]


_MATRICES: dict = {}


def _cached_component_matrix(model, seasonal_features: pd.DataFrame, modes: dict) -> tuple[pd.DataFrame, dict]:
    """`_component_matrix` at fit time, kept per process by what it depends on (the feature
    columns, holiday names, regressors' modes, the modes so far and the holidays' mode): the five
    fits of a series, and most series, share one. A copy is returned and `modes` is completed as
    `_component_matrix` would."""
    holidays = None if model.train_holiday_names is None else tuple(model.train_holiday_names.unique())
    key = (
        tuple(seasonal_features.columns),
        holidays,
        tuple((name, props["mode"]) for name, props in model.extra_regressors.items()),
        tuple(modes["additive"]),
        tuple(modes["multiplicative"]),
        model.holidays_mode,
    )
    if key not in _MATRICES:
        if len(_MATRICES) >= 256:
            _MATRICES.clear()
        matrix, done = _component_matrix(model, seasonal_features, modes)
        _MATRICES[key] = (matrix, {mode: list(names) for mode, names in done.items()})
    matrix, done = _MATRICES[key]
    for mode, names in done.items():
        modes[mode] = list(names)
    return matrix.copy(), modes


def _defer_plotting_import() -> None:
    """Put off importing `prophet.plot` until something plots.

    `prophet.forecaster` imports `plot` and `plot_components` from it at import time, and it
    imports matplotlib's pyplot and plotly: half a second of a process's start here (0.55 of the
    1.1 s importing Prophet takes), paid by every pool worker, for plots no forecast draws. A
    stand-in module takes its place in `sys.modules` until then: its two functions and any other
    name asked of it import the real module (which then replaces it) and hand over to it."""
    import importlib
    import sys
    import types

    if "prophet.plot" in sys.modules:
        return
    stand_in = types.ModuleType("prophet.plot", "prophet.plot, imported when first used")

    def real():
        if sys.modules.get("prophet.plot") is stand_in:
            del sys.modules["prophet.plot"]
        return importlib.import_module("prophet.plot")

    def plot(*args, **kwargs):
        return real().plot(*args, **kwargs)

    def plot_components(*args, **kwargs):
        return real().plot_components(*args, **kwargs)

    def attribute(name: str):
        if name.startswith("__"):  # the import system asks for __path__ and the like
            raise AttributeError(name)
        return getattr(real(), name)

    stand_in.plot, stand_in.plot_components, stand_in.__getattr__ = plot, plot_components, attribute
    sys.modules["prophet.plot"] = stand_in


@lru_cache(maxsize=1)
def _prophet_class():
    _defer_plotting_import()
    from prophet import Prophet

    class FastProphet(Prophet):
        """Prophet with `_component_matrix` in place of its crosstab, `_CmdStanRunner` in place
        of cmdstanpy, numpy Fourier terms and trend samples (`_sample_linear_trends`), and a
        plain frame's set-up, seasonalities and changepoints on numpy arrays; nothing else
        differs."""

        @staticmethod
        def fourier_series(dates, period, series_order):
            # Prophet's own, with the terms computed on the numpy array instead of a pandas
            # Series (twenty Series operations a seasonality, most of the features' cost): the
            # same float operations in the same order, so the same bits.
            if not (series_order >= 1):
                raise ValueError("series_order must be >= 1")
            epoch = pd.Timestamp("1970-01-01", tz=dates.dt.tz)
            t = ((dates - epoch).dt.total_seconds() / (24 * 60 * 60)).to_numpy(dtype=float)
            x_t = np.pi * 2 * t
            components = np.empty((dates.shape[0], 2 * series_order))
            for i in range(series_order):
                c = (i + 1) / period * x_t
                components[:, 2 * i] = np.sin(c)
                components[:, (2 * i) + 1] = np.cos(c)
            return components

        def sample_predictive_trend_vectorized(self, df, n_samples, iteration=0):
            if self.growth != "linear":
                return super().sample_predictive_trend_vectorized(df, n_samples, iteration)
            return _sample_linear_trends(self, df, n_samples, iteration)

        def regressor_column_matrix(self, seasonal_features, modes):
            if self.train_component_cols is not None:
                return _component_matrix(self, seasonal_features, modes)
            return _cached_component_matrix(self, seasonal_features, modes)

        def _load_stan_backend(self, stan_backend):
            self.stan_backend = _runner()

        def setup_dataframe(self, df, initialize_scales=False):
            if not _plain_frame(self, df) or (initialize_scales and "y" not in df):
                return super().setup_dataframe(df, initialize_scales)
            return _setup_plain_frame(self, df, initialize_scales)

        def set_auto_seasonalities(self):
            if not _plain_history(self):
                return super().set_auto_seasonalities()
            return _set_auto_seasonalities(self)

        def set_changepoints(self):
            if self.changepoints is not None or not _plain_history(self):
                return super().set_changepoints()
            hist_size = int(np.floor(self.history.shape[0] * self.changepoint_range))
            if not 0 < self.n_changepoints < hist_size:  # none, or fewer rows than asked: Prophet's
                return super().set_changepoints()
            return _set_changepoint_grid(self, hist_size)

    return FastProphet


def _plain_history(model) -> bool:
    """The fitted history's dates are nanosecond datetimes without a time zone (numpy's)."""
    return model.history is not None and model.history["ds"].dtype == np.dtype("datetime64[ns]")


# Prophet's automatic seasonalities: name, period in days, the history span below which and the
# sampling interval at or above which "auto" leaves it off, and its default Fourier order.
AUTO_SEASONALITIES = (
    ("yearly", 365.25, pd.Timedelta(days=730), None, 10),
    ("weekly", 7, pd.Timedelta(weeks=2), pd.Timedelta(weeks=1), 3),
    ("daily", 1, pd.Timedelta(days=2), pd.Timedelta(days=1), 4),
)


def _set_auto_seasonalities(model) -> None:
    """What Prophet's `set_auto_seasonalities` decides (the table above, the model's own
    seasonality arguments through its `parse_seasonality_args`), with the history's span and
    smallest nonzero spacing read off the numpy array instead of the pandas column (a diff, a
    selection and three reductions: 0.3 ms a fit here)."""
    ds = model.history["ds"].to_numpy()
    span = pd.Timestamp(ds.max()) - pd.Timestamp(ds.min())
    spacing = np.diff(ds)
    spacing = spacing[spacing != np.timedelta64(0, "ns")]
    smallest = pd.Timedelta(spacing.min()) if len(spacing) else pd.NaT  # NaT: never "too coarse"
    for name, period, shortest, coarsest, default_order in AUTO_SEASONALITIES:
        disable = span < shortest or (coarsest is not None and smallest >= coarsest)
        order = model.parse_seasonality_args(name, getattr(model, f"{name}_seasonality"), disable, default_order)
        if order <= 0:
            continue
        if name == "yearly" and disable:  # asked for explicitly on under two years
            logging.getLogger("prophet").warning(
                "yearly seasonality asked for on %s days of history (under two years): the trend and the "
                "season may not be told apart reliably",
                span.days,
            )
        model.seasonalities[name] = {
            "period": period,
            "fourier_order": order,
            "prior_scale": model.seasonality_prior_scale,
            "mode": model.seasonality_mode,
            "condition_name": None,
        }


def _set_changepoint_grid(model, hist_size: int) -> None:
    """Prophet's `set_changepoints` for its default grid (`n_changepoints` dates evenly through
    the first `changepoint_range` of the history), picked from the numpy array of dates instead
    of `iloc` and `tail` on the frame: the same dates (a Series labelled by the history's rows,
    as Prophet's) and the same `changepoints_t`, (date - start) / t_scale computed by the numpy
    division pandas runs for it."""
    history = model.history
    rows = np.linspace(0, hist_size - 1, model.n_changepoints + 1).round().astype(int)[1:]
    dates = history["ds"].to_numpy()[rows]
    model.changepoints = pd.Series(dates, index=history.index[rows], name="ds")
    elapsed = (dates - np.datetime64(model.start, "ns")) / np.timedelta64(model.t_scale, "ns")
    model.changepoints_t = np.sort(elapsed)


def _sample_linear_trends(model, df: pd.DataFrame, n_samples: int, iteration: int) -> np.ndarray:
    """Prophet's `sample_predictive_trend_vectorized` and `_sample_uncertainty` for linear growth,
    on numpy arrays instead of pandas selections (half their time): the same random draws in
    the same order (`_make_trend_shift_matrix`, Prophet's own) and the same arithmetic, so the
    same samples (tests/test_forecasting.py compares with stock Prophet)."""
    deltas, m, k = model.params["delta"][iteration], model.params["m"][iteration], model.params["k"][iteration]
    t = df["t"].to_numpy()
    expected = model.piecewise_linear(t, deltas, k, m, model.changepoints_t)
    if t.max() <= 1:
        uncertainties = np.zeros((n_samples, len(t)))
    else:
        future = t[t > 1]
        if len(future) > 1:
            single_diff = np.diff(future).mean()
        else:
            single_diff = np.diff(model.history["t"].to_numpy()).mean()
        change_likelihood = len(model.changepoints_t) * single_diff
        mean_delta = np.mean(np.abs(deltas)) + 1e-8
        shifts = model._make_trend_shift_matrix(mean_delta, change_likelihood, len(future), n_samples=n_samples)
        uncertainties = shifts.cumsum(axis=1).cumsum(axis=1)
        uncertainties *= single_diff
        if t.min() <= 1:
            past = np.zeros((n_samples, np.sum(t <= 1)))
            uncertainties = np.concatenate([past, uncertainties], axis=1)
    floor = np.tile(df["floor"].to_numpy(), (n_samples, 1))
    return (np.tile(expected, (n_samples, 1)) + uncertainties) * model.y_scale + floor


def _plain_frame(model, df: pd.DataFrame) -> bool:
    """A frame `_setup_plain_frame` prepares as Prophet would: linear growth scaled by the largest
    absolute value, no extra regressors or conditional seasonalities, only `ds` (nanosecond
    datetimes without a time zone or gaps) and `y`."""
    return (
        model.growth == "linear"
        and model.scaling == "absmax"
        and not model.logistic_floor
        and not model.extra_regressors
        and all(props["condition_name"] is None for props in model.seasonalities.values())
        and set(df.columns) <= {"ds", "y"}
        and "ds" in df
        and df["ds"].dtype == np.dtype("datetime64[ns]")
        and not df["ds"].isna().any()
    )


def _setup_plain_frame(model, df: pd.DataFrame, initialize_scales: bool) -> pd.DataFrame:
    """Prophet's `setup_dataframe` (and `initialize_scales`) for a plain frame (`_plain_frame`),
    with numpy and one DataFrame instead of a dozen pandas column operations: rows sorted by ds
    (stable, as Prophet's mergesort), the scales set from them when asked (y_scale the largest
    absolute y, or 1 when that is 0; start and t_scale from the first and last ds), `floor` 0,
    `t` = (ds - start) / t_scale and `y_scaled` = (y - floor) / y_scale, computed with the numpy
    operations pandas applies, so the values are the same to the bit (tests/test_forecasting.py)."""
    ds = df["ds"].to_numpy()
    order = np.argsort(ds, kind="mergesort")
    ds = ds[order]
    columns = {"ds": ds}
    y = None
    if "y" in df:
        y = pd.to_numeric(df["y"]).to_numpy()[order]
        if np.isinf(y).any():
            raise ValueError("Found infinity in column y.")
        columns["y"] = y
    if initialize_scales:
        model.y_min = 0.0
        model.y_scale = float(np.abs(y).max())
        if model.y_scale == 0:
            model.y_scale = 1.0
        model.start = pd.Timestamp(ds[0])
        model.t_scale = pd.Timestamp(ds[-1]) - model.start
    floor = np.zeros(len(ds))
    columns["floor"] = floor
    columns["t"] = (ds - np.datetime64(model.start, "ns")) / np.timedelta64(model.t_scale, "ns")
    if y is not None:
        columns["y_scaled"] = (y - floor) / model.y_scale
    return pd.DataFrame(columns)


class ProphetMember:
    name = "prophet"

    def fit(self, history: History, warm=None) -> _ProphetFit:
        _quiet_logs()
        seasonality = "auto" if history.season else False
        model = _prophet_class()(
            yearly_seasonality=seasonality,
            weekly_seasonality=seasonality,
            daily_seasonality=seasonality,
            holidays=holiday_frame(history),
            uncertainty_samples=SAMPLES,
        )
        frame = pd.DataFrame({"ds": _timestamps(history.labels), "y": history.values})
        # The holiday column is ARIMA's way of taking the holidays Prophet has as its own.
        rows, columns = history.regressors(), history.varying_regressors(skip=(HOLIDAY_COLUMN,))
        for i in columns:
            model.add_regressor(_regressor_name(i))
            frame[_regressor_name(i)] = rows[:, i]
        model.fit(frame)
        return _ProphetFit(self, history, model, columns)


def _regressor_name(column: int) -> str:
    return f"regressor_{column}"


class _ProphetFit:
    def __init__(self, member: ProphetMember, history: History, model, columns: tuple[int, ...] = ()):
        self.member, self.history, self.model, self.columns = member, history, model, columns

    def _future(self, horizon: int) -> pd.DataFrame:
        """The next periods' dates and, with regressors, their known values."""
        future = pd.DataFrame({"ds": _timestamps(self.history.future_labels(horizon))})
        if self.columns:
            rows = self.history.regressors(horizon)[len(self.history) :]
            for i in self.columns:
                future[_regressor_name(i)] = rows[:, i]
        return future

    def forecast(self, horizon: int) -> Band:
        model = self.model
        future = model.setup_dataframe(self._future(horizon))
        # predict() and predictive_samples() would each rebuild the seasonality and holiday
        # features and their component matrix (`_features`); they are built once here and used
        # for both, with Prophet's own formulas: the point forecast is predict()'s yhat
        # (MAP trend x (1 + multiplicative terms) + additive terms) and the samples are
        # predictive_samples()' vectorised draws, so the numbers are the same as through the
        # public calls (tests/test_forecasting.py checks it).
        matrix, components = _features(model, future)
        beta = model.params["beta"]
        additive = np.nanmean(matrix @ (beta * components["additive_terms"].values).T, axis=1) * model.y_scale
        multiplicative = np.nanmean(matrix @ (beta * components["multiplicative_terms"].values).T, axis=1)
        point = np.asarray(model.predict_trend(future), dtype=float) * (1 + multiplicative) + additive
        iterations = model.params["k"].shape[0]
        per_iteration = max(1, int(np.ceil(SAMPLES / float(iterations))))
        s_a, s_m = components["additive_terms"].values, components["multiplicative_terms"].values
        # One fixed seed: intervals that change between two identical calls confuse people.
        state = np.random.get_state()
        np.random.seed(0)
        try:
            draws = []
            for i in range(iterations):
                # Prophet's `sample_model_vectorized`, its draws in the same order and its
                # arithmetic element by element the same, on the samples' matrix at once instead
                # of a dict of arrays per sample (400 of them: a third of a forecast's time).
                beta = model.params["beta"][i]
                additive_i = np.matmul(matrix, beta * s_a) * model.y_scale
                multiplicative_i = np.matmul(matrix, beta * s_m)
                trends = model.sample_predictive_trend_vectorized(future, per_iteration, i)
                noise = np.random.normal(0, model.params["sigma_obs"][i], trends.shape) * model.y_scale
                draws.append(trends * (1 + multiplicative_i) + additive_i + noise)
        finally:
            np.random.set_state(state)
        samples = np.concatenate(draws).T  # periods x samples
        lo_80, hi_80, lo_95, hi_95 = np.quantile(samples, [0.10, 0.90, 0.025, 0.975], axis=1)
        return Band(point, lo_80, hi_80, lo_95, hi_95).nested()

    def public_forecast(self, horizon: int) -> Band:
        """The same forecast through Prophet's public predict() and predictive_samples() (slower;
        kept to check `forecast` against)."""
        future = self._future(horizon)
        state = np.random.get_state()
        np.random.seed(0)
        try:
            self.model.uncertainty_samples = 0
            point = self.model.predict(future)
            self.model.uncertainty_samples = SAMPLES
            samples = self.model.predictive_samples(future)["yhat"]
        finally:
            self.model.uncertainty_samples = SAMPLES
            np.random.set_state(state)
        lo_80, hi_80, lo_95, hi_95 = np.quantile(samples, [0.10, 0.90, 0.025, 0.975], axis=1)
        return Band(np.asarray(point["yhat"], dtype=float), lo_80, hi_80, lo_95, hi_95).nested()

    def at(self, history: History) -> _ProphetFit:
        return self.member.fit(history)
