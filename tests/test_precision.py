"""bf16 is chosen from what the hardware does natively: the resolver over faked CPU and GPU facts.

The facts are fakes of real machines (the flags of an AVX512-BF16/AMX Xeon, of an AVX2-only EPYC, and the ISA
caps a user may set); the resolver itself is the real one.
"""

from __future__ import annotations

import logging

import pytest

from conscience.precision import CpuFacts, CudaFacts, cpu_facts, inference_dtype, resolve_bf16

XEON_AMX = frozenset({"fma", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
XEON_AVX512_BF16 = frozenset({"fma", "avx2", "avx512f", "avx512_bf16"})
SKYLAKE_AVX512 = frozenset({"fma", "avx2", "avx512f", "avx512_vnni"})
EPYC_AVX2 = frozenset({"fma", "avx", "avx2"})


def facts(flags, capability="AVX512", onednn_max_isa=None, onednn_bf16=True) -> CpuFacts:
    return CpuFacts(flags=flags, torch_capability=capability, onednn_max_isa=onednn_max_isa, onednn_bf16=onednn_bf16)


@pytest.mark.parametrize("cpu, native", [
    (facts(XEON_AMX), True),
    (facts(XEON_AVX512_BF16), True),
    (facts(SKYLAKE_AVX512), False),
    (facts(EPYC_AVX2, capability="AVX2", onednn_bf16=False), False),
    # The way to reproduce an AVX2 host on an AVX-512 one: either cap alone turns native bf16 off.
    (facts(XEON_AMX, onednn_max_isa="AVX2"), False),
    (facts(XEON_AMX, capability="AVX2"), False),
    (facts(XEON_AMX, onednn_max_isa="avx512_core"), False),
    (facts(XEON_AMX, onednn_max_isa="AVX512_CORE_AMX"), True),
    (facts(XEON_AMX, onednn_bf16=False), False),
])
def test_auto_is_true_only_where_the_cpu_computes_bf16_natively(cpu, native):
    precision = resolve_bf16("auto", facts=cpu, cuda=None)
    assert precision.bf16 is native and precision.native is native
    assert precision.device == "cpu" and precision.requested == "auto"
    assert precision.reason  # says why, for run.json and the CLI


def test_the_reason_names_what_turned_bf16_off():
    assert "no avx512_bf16 or amx_bf16" in resolve_bf16("auto", facts=facts(EPYC_AVX2, "AVX2"), cuda=None).reason
    assert "ONEDNN_MAX_CPU_ISA=AVX2" in resolve_bf16("auto", facts=facts(XEON_AMX, onednn_max_isa="AVX2"), cuda=None).reason
    assert "capability AVX2" in resolve_bf16("auto", facts=facts(XEON_AMX, capability="AVX2"), cuda=None).reason


def test_explicit_false_is_kept_everywhere():
    for cpu in (facts(XEON_AMX), facts(EPYC_AVX2, "AVX2")):
        assert resolve_bf16(False, facts=cpu, cuda=None).bf16 is False


def test_explicit_true_without_native_bf16_runs_with_a_warning_saying_how_much_slower(caplog, monkeypatch):
    import conscience.precision as precision_module

    monkeypatch.setattr(precision_module, "bf16_slowdown", lambda: 24.3)
    with caplog.at_level(logging.WARNING, logger="conscience.precision"):
        precision = resolve_bf16(True, facts=facts(EPYC_AVX2, "AVX2", onednn_bf16=False), cuda=None)
    assert precision.bf16 is True and precision.native is False and precision.requested == "true"
    [record] = caplog.records
    assert "about 24x slower than fp32" in record.getMessage() and "\n" not in record.getMessage()
    assert "forced by the config" in precision.reason


def test_explicit_true_with_native_bf16_does_not_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="conscience.precision"):
        assert resolve_bf16(True, facts=facts(XEON_AMX), cuda=None).bf16 is True
    assert not caplog.records


def test_a_cuda_device_decides_by_its_own_bf16_support():
    cpu_without = facts(EPYC_AVX2, "AVX2", onednn_bf16=False)
    on_h100 = resolve_bf16("auto", facts=cpu_without, cuda=CudaFacts(name="NVIDIA H100", bf16=True))
    assert on_h100.bf16 and on_h100.device == "cuda" and "H100" in on_h100.reason
    on_t4 = resolve_bf16("auto", facts=facts(XEON_AMX), cuda=CudaFacts(name="Tesla T4", bf16=False))
    assert not on_t4.bf16 and on_t4.device == "cuda"


def test_this_machine_resolves_consistently_with_its_own_facts():
    here = cpu_facts()
    assert resolve_bf16("auto", cuda=None).bf16 == resolve_bf16("auto", facts=here, cuda=None).bf16


def test_inference_stays_float32_on_cpu_unless_asked():
    assert inference_dtype("float32") == "float32"
    assert inference_dtype("auto") == "float32"  # no GPU here: same replies on every CPU host
