"""The tool's gunicorn settings (config/gunicorn.conf.py) for the baseline, without the tool's hooks
(schema check, content report, grade worker), so both servers run with the same settings."""
from pathlib import Path

_settings: dict = {}
exec((Path(__file__).resolve().parent.parent / "config" / "gunicorn.conf.py").read_text(), _settings)  # noqa: S102
globals().update({k: v for k, v in _settings.items() if not k.startswith("_") and not callable(v)})
