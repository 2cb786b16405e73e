"""Which float precision a run uses: bf16 only where the hardware computes it natively.

CPU bf16 autocast is fast only on cores with AVX512-BF16 or AMX: there oneDNN runs bf16 matmuls natively (about
3.5x fp32 on a Linear forward+backward measured on such a host). On AVX2-only cores the same autocast falls back
to emulation and ran 24x (AMD EPYC, AVX2) to 53x (oneDNN capped at AVX2) *slower* than fp32. So ``bf16: auto``
asks the hardware, once per run, and every place that picks a dtype goes through :func:`resolve_bf16`.

The decision reads facts, not a guess: the CPU's flags (``/proc/cpuinfo``), the ISA limits a user or a test may
set (``ONEDNN_MAX_CPU_ISA``, ``ATEN_CPU_CAPABILITY``, which torch reports as its CPU capability), and oneDNN's
own bf16 check; on a GPU, ``torch.cuda.is_bf16_supported()``.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

Bf16Setting = bool | Literal["auto"]

NATIVE_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# oneDNN ISA names (ONEDNN_MAX_CPU_ISA) that stop below native bf16; anything else (ALL, DEFAULT, the bf16/AMX
# levels and later) leaves bf16 to the hardware.
ONEDNN_BELOW_BF16 = frozenset({"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"})


@dataclass(frozen=True)
class CpuFacts:
    """What decides native CPU bf16: the CPU flags, torch's dispatch level, the oneDNN cap and oneDNN's own check."""

    flags: frozenset[str]
    torch_capability: str
    onednn_max_isa: str | None
    onednn_bf16: bool


@dataclass(frozen=True)
class Precision:
    """A resolved bf16 decision and why, as written to ``run.json``, the model card, the plan and the CLI."""

    bf16: bool
    requested: str
    device: str
    native: bool
    reason: str

    def summary(self) -> str:
        return describe(self.as_record())

    def as_record(self) -> dict[str, object]:
        return {"bf16": self.bf16, "requested": self.requested, "device": self.device, "native_bf16": self.native,
                "reason": self.reason}


def describe(record: dict[str, object]) -> str:
    """One line for a recorded precision (``Precision.as_record()``, as read back from ``run.json``)."""
    return f"bf16 {'on' if record['bf16'] else 'off'} (requested {record['requested']}; {record['reason']})"


def _cpuinfo_flags(path: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    try:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_facts() -> CpuFacts:
    """Read this machine's facts (cheap; no timing)."""
    import torch

    return CpuFacts(flags=_cpuinfo_flags(), torch_capability=torch.backends.cpu.get_cpu_capability(),
                    onednn_max_isa=os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA"),
                    onednn_bf16=bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()))


def cpu_native_bf16(facts: CpuFacts) -> tuple[bool, str]:
    """Whether bf16 matmuls run natively on this CPU as torch is set up, and the reason in one phrase."""
    native_flags = [flag for flag in NATIVE_CPU_FLAGS if flag in facts.flags]
    if not native_flags:
        return False, "CPU has no avx512_bf16 or amx_bf16"
    have = "+".join(native_flags)
    if facts.onednn_max_isa and facts.onednn_max_isa.upper() in ONEDNN_BELOW_BF16:
        return False, f"CPU has {have} but ONEDNN_MAX_CPU_ISA={facts.onednn_max_isa} caps oneDNN below bf16"
    if not facts.torch_capability.upper().startswith(("AVX512", "AMX")):
        return False, f"CPU has {have} but torch runs at capability {facts.torch_capability} (ATEN_CPU_CAPABILITY)"
    if not facts.onednn_bf16:
        return False, f"CPU has {have} but oneDNN reports no bf16 support"
    return True, f"CPU has {have} (torch capability {facts.torch_capability})"


@dataclass(frozen=True)
class CudaFacts:
    """The first CUDA device's name and whether it computes in bf16."""

    name: str
    bf16: bool


def cuda_facts() -> CudaFacts | None:
    """This machine's CUDA device, or None without one."""
    import torch

    if not torch.cuda.is_available():
        return None
    return CudaFacts(name=torch.cuda.get_device_name(0), bf16=torch.cuda.is_bf16_supported())


@lru_cache(maxsize=1)
def bf16_slowdown(seconds: float = 0.3) -> float:
    """fp32 speed over bf16-autocast speed on a Linear(576->1536) forward+backward of 512 rows (one core's
    worth of a 135M model's matmul), timed here and now. Only called to say how much slower an explicit
    ``bf16: true`` will be on a CPU without native bf16."""
    import torch

    layer, rows = torch.nn.Linear(576, 1536), torch.randn(512, 576)

    def rate(bf16: bool) -> float:
        count, start = 0, time.perf_counter()
        while True:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = layer(rows).sum()
            out.backward()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return count / elapsed

    rate(False), rate(True)  # warm-up: first calls pay oneDNN's kernel set-up
    return rate(False) / rate(True)


_DETECT = object()


def resolve_bf16(setting: Bf16Setting, *, facts: CpuFacts | None = None, cuda: object = _DETECT) -> Precision:
    """Resolve ``true``/``false``/``auto`` for this machine.

    ``auto`` is true only where bf16 is native (CUDA with bf16, or a CPU with AVX512-BF16/AMX that torch and
    oneDNN may use). An explicit ``true`` is kept even where it is not native, with a warning that says how much
    slower it runs (timed on the spot). ``facts`` (CpuFacts) and ``cuda`` (CudaFacts or None) fake the hardware
    in tests; by default both are read from this machine.
    """
    requested = "auto" if setting == "auto" else str(bool(setting)).lower()
    gpu = cuda_facts() if cuda is _DETECT else cuda
    if isinstance(gpu, CudaFacts):
        native, device = gpu.bf16, "cuda"
        reason = f"CUDA device {gpu.name} {'supports' if gpu.bf16 else 'has no'} bf16"
    else:
        native, reason = cpu_native_bf16(facts or cpu_facts())
        device = "cpu"
    if setting == "auto":
        return Precision(bf16=native, requested=requested, device=device, native=native, reason=reason)
    chosen = bool(setting)
    if chosen and not native:
        slower = f"about {bf16_slowdown():.0f}x slower than fp32 on a matmul timed here" if device == "cpu" else "emulated"
        logger.warning("bf16: true without native bf16 (%s): %s; set bf16: auto or false", reason, slower)
        reason = f"{reason}; forced by the config ({slower})"
    return Precision(bf16=chosen, requested=requested, device=device, native=native, reason=reason)


def inference_dtype(dtype: str) -> str:
    """The weights dtype for sampling, evaluation and the guard: ``float32`` unless asked otherwise.

    ``auto`` is bfloat16 only on a CUDA device with bf16; on CPU it stays float32 even where bf16 is native, so
    evaluation replies (and every figure built on them) are the same on every host. An explicit ``bfloat16``
    goes through :func:`resolve_bf16` and so warns where it is not native.
    """
    if dtype == "auto":
        gpu = cuda_facts()
        return "bfloat16" if gpu is not None and gpu.bf16 else "float32"
    if dtype == "bfloat16":
        resolve_bf16(True)
    return dtype
