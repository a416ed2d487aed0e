"""python manage.py train [--kind K | --kind all]: train model kinds now, in this process, each
recorded as a TrainingRun (trigger "command") exactly as the admin's "Retrain now" records
its queued runs; a new version is promoted only when it beats the active one on the same
held-out months, and then scores every client."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ml.models import TrainingRun
from ml.registry import TRAINERS, discover, execute_run


class Command(BaseCommand):
    help = "Train model kinds now (one TrainingRun each), with a progress bar."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", default="all", help="a model kind, or 'all' (default)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, kind: str, no_progress: bool, **options) -> None:
        discover()
        if not TRAINERS:
            raise CommandError("No model kind is registered for training.")
        if kind != "all" and kind not in TRAINERS:
            raise CommandError(f"Unknown model kind {kind!r}; known: {', '.join(sorted(TRAINERS))}")
        failed = []
        for name in sorted(TRAINERS) if kind == "all" else [kind]:
            run = TrainingRun.objects.create(kind=name, trigger="command")
            bar = None if no_progress else tqdm(total=100, desc=f"train {name}", unit="%", leave=True)

            def echo(percent: int, message: str, bar=bar) -> None:
                if bar is not None:
                    bar.update(percent - bar.n)
                    bar.set_postfix_str(message[:60])

            run = execute_run(run.pk, progress=echo)
            if bar is not None:
                bar.update(100 - bar.n)
                bar.close()
            self.stdout.write(f"{name}: {run.status}. {run.message}")
            if run.status == TrainingRun.Status.FAILED:
                failed.append(name)
        if failed:
            raise CommandError(f"Training failed for: {', '.join(failed)}")
