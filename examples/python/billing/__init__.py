"""ctypes binding for libbilling, the embeddable billing-center engine.

    from billing import Engine
    with Engine("billing.sqlite", clock="manual", now=1704076200) as engine:
        print(engine.config()["five_day_quota_per_year"])
"""

__version__ = "0.2.0"

from . import errors, reasons
from .engine import Engine, version, version_number
from .errors import BillingError

__all__ = ["__version__", "Engine", "BillingError", "errors", "reasons", "version", "version_number"]
