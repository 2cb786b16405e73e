"""Local transformers models: batched generation with left padding, optional LoRA adapter on top."""

from __future__ import annotations

from pathlib import Path

import torch

from conscience.errors import ConscienceError
from conscience.models.protocol import Completion, GenerationParams, Message
from conscience.precision import inference_dtype


class HFChatModel:
    """A causal LM from a local folder, optionally with a PEFT adapter (merged on load), behind the ChatModel protocol.

    ``model`` and ``tokenizer`` are public so scorers that need log-likelihoods (MedQA) or trainers can use
    the same loaded weights rather than loading a second copy. ``dtype`` goes through
    ``conscience.precision.inference_dtype``: float32 by default on CPU (the same replies on every host),
    ``auto`` takes bf16 only on a bf16 GPU, and an explicit bfloat16 warns where the CPU lacks native bf16.
    """

    def __init__(self, spec: str, folder: Path, adapter: Path | None = None, batch_size: int = 32, dtype: str = "float32"):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weights-loading bar on every model load is noise in CLI output

        if not (folder / "config.json").exists():
            raise ConscienceError("not a Hugging Face model folder (no config.json)", where=folder)
        self.spec = spec
        self.folder = folder
        self.adapter = adapter
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.dtype = inference_dtype(dtype)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, self.dtype))
        if adapter is not None:
            if not (adapter / "adapter_config.json").exists():
                raise ConscienceError("not a LoRA adapter folder (no adapter_config.json)", where=adapter)
            from peft import PeftModel

            # Folded into the weights for inference: same outputs, without LoRA's extra matmuls per layer.
            model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        self.model = model.eval()

    def render(self, conversation: list[Message]) -> str:
        """The exact text the model sees (chat template + generation prompt)."""
        return self.tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)

    def generate(self, conversations: list[list[Message]], params: GenerationParams) -> list[Completion]:
        texts = [self.render(c) for c in conversations]
        # Longest first in each batch keeps padding waste low; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        results: list[Completion | None] = [None] * len(texts)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            for index, completion in zip(chunk, self._generate_batch([texts[i] for i in chunk], params)):
                results[index] = completion
        return results  # type: ignore[return-value]

    @torch.inference_mode()
    def _generate_batch(self, texts: list[str], params: GenerationParams) -> list[Completion]:
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        kwargs: dict = {"max_new_tokens": params.max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
        if params.temperature > 0:
            torch.manual_seed(params.seed)
            # top_k=0: transformers otherwise adds top_k=50 silently when sampling.
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        out = self.model.generate(**enc, **kwargs)
        new_tokens = out[:, enc["input_ids"].shape[1] :]
        completions = []
        eos = self.tokenizer.eos_token_id
        for row, mask in zip(new_tokens, enc["attention_mask"]):
            ids = row.tolist()
            finish = "length"
            if eos in ids:
                ids = ids[: ids.index(eos)]
                finish = "stop"
            text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
            for stop in params.stop:
                if stop in text:
                    text, finish = text.split(stop, 1)[0], "stop"
            completions.append(
                Completion(text=text, finish_reason=finish, prompt_tokens=int(mask.sum()), completion_tokens=len(ids) + (finish == "stop"))
            )
        return completions
