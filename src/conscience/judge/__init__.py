"""The Asclepius judge: did a reply refuse, and is it unsafe under the constitution? (see ``ensemble.py``).

Public API: :func:`load_judge` gives a :class:`Judge`; stages type the judge they take as :class:`Scorer`
(``score`` and ``describe``); the guard's screen calls ``Judge.screen``. Members, weights and calibration
are the judge's own modules, which other packages do not import.
"""

from conscience.judge.calibrate import CalibrationReport, calibrate, calibrate_cached
from conscience.judge.classifier import default_weights_path
from conscience.judge.ensemble import Judge, load_judge
from conscience.judge.gold import GoldExample, load_gold
from conscience.judge.votes import DraftRisk, Judgement, MemberVote, Scorer

__all__ = ["CalibrationReport", "DraftRisk", "GoldExample", "Judge", "Judgement", "MemberVote", "Scorer", "calibrate", "calibrate_cached",
           "default_weights_path", "load_gold", "load_judge"]
