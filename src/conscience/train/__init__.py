"""The training stage: preference pairs to a LoRA adapter with DPO, IPO, KTO or SimPO on TRL.

``train(load_profile("cpu-demo").resolve("dpo"), "pairs.jsonl", "hf:smollm2-135m", "runs/dpo")`` is the whole
library API; ``plan(...)`` answers what a run will cost without loading weights. Profiles are YAML files in
``profiles/``; multi-GPU accelerate configs are in ``accelerate/``.
"""

from conscience.train.artifacts import TrainResult
from conscience.train.config import METHODS, TrainConfig, load_profile, shipped_profiles, validate_config
from conscience.train.data import PreferenceData, load_pairs
from conscience.train.plan import TrainPlan, plan
from conscience.train.run import train

__all__ = ["METHODS", "PreferenceData", "TrainConfig", "TrainPlan", "TrainResult", "load_pairs", "load_profile", "plan",
           "shipped_profiles", "train", "validate_config"]
