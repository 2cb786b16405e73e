"""The constitutional guard at inference time: draft → screen → critique → revise or refuse.

:class:`Guard` is the library (and itself a ChatModel); :mod:`conscience.guard.server` serves one over
the OpenAI chat-completions protocol (needs the ``serve`` extra: fastapi, uvicorn).
"""

from conscience.guard.audit import AuditLog
from conscience.guard.core import Guard, Screen
from conscience.guard.policy import GuardPolicy, load_policy
from conscience.guard.records import GuardedReply, Oversight, PrincipleVerdict, ScreenResult

__all__ = ["AuditLog", "Guard", "GuardPolicy", "GuardedReply", "Oversight", "PrincipleVerdict", "Screen", "ScreenResult",
           "load_policy"]
