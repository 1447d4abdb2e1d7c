#!/usr/bin/env python3
"""Tiny random Hugging Face models and their logits: the goldens behind mixlab's HfParityTest.

For each family (llama, mistral, qwen2, gpt2) this writes, into OUT/<family>/ (default
src/test/resources/hf/<family>/):

  config.json, model.safetensors        save_pretrained (safetensors; llama is sharded on purpose,
    (or model-0000k-of-0000n.safetensors  so the importer's model.safetensors.index.json path is tested)
     + model.safetensors.index.json)
  tokenizer.json                        a tiny byte-level BPE trained here with the `tokenizers` library
                                        (gpt2, mistral: GPT-2's ByteLevel pre-tokenizer; llama, qwen2:
                                        a Llama-3-style Split regex, then ByteLevel without regex)
  expected.json                         the prompt, its ids from that tokenizer (no special tokens),
                                        and the logits for those ids in float32 and float64

Models are random (fixed seeds), float32, 2 layers, hidden 64, 4 heads (2 kv heads where the family
has them), vocab 300, 128 positions, FFN width 96. Every parameter is re-drawn (biases and norm gains too, which
transformers initialises to 0 and 1) so that a wrong mapping of any tensor shows in the logits.

Needs torch, transformers and tokenizers. Run from the repository root:

    python3 reference/hf_tiny_models.py [OUT]
"""

import json
import os
import sys

import torch
import transformers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

VOCAB = 300
HIDDEN = 64
LAYERS = 2
HEADS = 4
KV_HEADS = 2
POSITIONS = 128
INTERMEDIATE = 96

PROMPT = "Hello world! The quick brown fox jumps over 13 lazy dogs, doesn't it?\n  Ünïcödé 日本 🙂"

CORPUS = [
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "It's a truth universally acknowledged, that a single man in possession of a good fortune",
    "must be in want of a wife. We'll see; they've said you'd come, I'm sure.",
    "The year 2024 had 366 days; 13 dogs and 7 foxes ran 1234 metres.",
    "def main():\n    return 42  # the answer\n",
    "Ünïcödé text: naïve café, 日本語, emoji 🙂🙂.",
] * 20

# Llama 3's pre-tokenizer split (the ByteLevel that follows it has use_regex false).
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def make_tokenizer(style):
    tok = Tokenizer(models.BPE())
    if style == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB - 4,  # leaves room below the model's vocab of 300
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    assert tok.get_vocab_size() <= VOCAB, tok.get_vocab_size()
    return tok


def family_model(family):
    common = dict(vocab_size=VOCAB, attn_implementation="eager")
    if family == "gpt2":
        cfg = transformers.GPT2Config(
            n_positions=POSITIONS, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_inner=INTERMEDIATE,
            activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
            layer_norm_epsilon=1e-5, tie_word_embeddings=True, **common)
        return transformers.GPT2LMHeadModel(cfg)
    llama_like = dict(
        hidden_size=HIDDEN, intermediate_size=INTERMEDIATE, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=POSITIONS,
        rms_norm_eps=1e-6, rope_theta=10000.0, hidden_act="silu", attention_dropout=0.0, **common)
    if family == "llama":
        cfg = transformers.LlamaConfig(tie_word_embeddings=False, attention_bias=False, **llama_like)
        return transformers.LlamaForCausalLM(cfg)
    if family == "mistral":
        cfg = transformers.MistralConfig(tie_word_embeddings=False, sliding_window=None, **llama_like)
        return transformers.MistralForCausalLM(cfg)
    if family == "qwen2":
        cfg = transformers.Qwen2Config(tie_word_embeddings=True, use_sliding_window=False, **llama_like)
        return transformers.Qwen2ForCausalLM(cfg)
    raise ValueError(family)


def randomise(model):
    """Re-draws every parameter: matrices and biases normal(0, 0.08), norm gains normal(1, 0.1)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm = p.dim() == 1 and ("norm" in name or ".ln_" in name or name.startswith("ln_")
                                        or ".ln_f." in name) and name.endswith("weight")
            if is_norm:
                p.normal_(1.0, 0.1)
            else:
                p.normal_(0.0, 0.08)


def logits_of(model, ids, dtype):
    m = model.to(dtype).eval()
    with torch.no_grad():
        out = m(torch.tensor([ids], dtype=torch.long)).logits[0]
    return out.to(dtype)


def fmt(rows, digits):
    return [[float(f"{v:.{digits}g}") for v in row] for row in rows.tolist()]


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join("src", "test", "resources", "hf")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    total = 0
    for seed, family in enumerate(["llama", "mistral", "qwen2", "gpt2"]):
        out = os.path.join(out_root, family)
        os.makedirs(out, exist_ok=True)
        for f in os.listdir(out):  # a rerun must not leave stale shards behind
            os.remove(os.path.join(out, f))

        tok = make_tokenizer("gpt2" if family in ("gpt2", "mistral") else "llama3")
        tok.save(os.path.join(out, "tokenizer.json"))
        ids = tok.encode(PROMPT, add_special_tokens=False).ids
        assert 0 < len(ids) <= POSITIONS, len(ids)
        assert tok.decode(ids) == PROMPT, tok.decode(ids)

        torch.manual_seed(1000 + seed)
        model = family_model(family).to(torch.float32)
        randomise(model)
        shard = {"max_shard_size": "200KB"} if family == "llama" else {}
        model.save_pretrained(out, safe_serialization=True, **shard)
        for extra in ("generation_config.json",):
            p = os.path.join(out, extra)
            if os.path.exists(p):
                os.remove(p)

        l32 = logits_of(model, ids, torch.float32)
        l64 = logits_of(model, ids, torch.float64)
        expected = {
            "family": family,
            "architecture": type(model).__name__,
            "prompt": PROMPT,
            "input_ids": ids,
            "shape": list(l32.shape),
            "logits_float32": fmt(l32, 9),   # 9 digits: every float32 exactly
            "logits_float64": fmt(l64, 12),  # 12 digits: far below the float32 tolerance, half the bytes
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }
        with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(expected, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        total += size
        print(f"{family}: {len(ids)} ids, logits {tuple(l32.shape)}, max |logit| {l32.abs().max().item():.4f}, "
              f"{size / 1e6:.2f} MB in {out}")
    print(f"total {total / 1e6:.2f} MB" + ("  (over the 4 MB budget: shorten PROMPT)" if total > 4e6 else ""))


if __name__ == "__main__":
    main()
