from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The sandbox as an app of its own, for its commands (runsandbox, connect_sandbox,
    setup_demo): they import the sandbox, which code under integrations/ must not."""

    name = "integrations.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox (tests and the demo)"
