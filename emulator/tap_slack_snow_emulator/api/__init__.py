"""The emulated Slack Web API methods, one module per method family, and the request pipeline.

* :mod:`.pipeline`: :class:`Api`, the order of checks of every request;
* :mod:`.users_and_team`, :mod:`.activity_logs`, :mod:`.admin`, :mod:`.auth`,
  :mod:`.bookmarks`: the methods;
* :mod:`.method_table`: scopes and rate allowances; :mod:`.arguments`, :mod:`.replies`:
  argument parsing and answers; :mod:`.fault_replies`: injected faults.
"""

from .method_table import METHODS, MethodSpec
from .pipeline import Api
from .replies import JSON_TYPE, ApiError, Reply

__all__ = ["JSON_TYPE", "METHODS", "Api", "ApiError", "MethodSpec", "Reply"]
