"""Golden values for the engine's GPT and encoder, computed by PyTorch.

Builds tiny seeded models with the architecture of shared/bench/torch_gpt_ref.py (pre-LN, GELU tanh,
learned positions; tied head for the GPT; bidirectional with a padding mask, mean pooling and a linear head
for the encoder), runs one forward and backward pass in float64, and writes weights, inputs, logits, loss
and every parameter gradient to a safetensors file the C# tests read (tensor names: the PyTorch parameter
names for weights, `input.*`, `output.*` and `grad.<parameter name>`).

Run from the repository root:  /usr/bin/python3 tests/Components/Fixtures/make_golden.py
Needs only PyTorch (Debian: python3-torch); safetensors is written by hand (8-byte header length, JSON, data).
"""
import json, math, struct, sys
from pathlib import Path
import torch, torch.nn as nn, torch.nn.functional as F

OUT = Path(__file__).resolve().parent

class Block(nn.Module):
    def __init__(s, dim, heads, causal):
        super().__init__()
        s.heads, s.causal = heads, causal
        s.ln1, s.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        s.qkv, s.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        s.fc, s.out = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
    def forward(s, x, key_mask=None):
        B, T, C = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(C, 2)
        q, k, v = (t.view(B, T, s.heads, C // s.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // s.heads)
        if s.causal:
            att = att.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        if key_mask is not None:
            att = att.masked_fill(~key_mask.bool()[:, None, None, :], float("-inf"))
        att = att.softmax(-1)
        x = x + s.proj((att @ v).transpose(1, 2).reshape(B, T, C))
        return x + s.out(F.gelu(s.fc(s.ln2(x)), approximate="tanh"))

class Gpt(nn.Module):
    def __init__(s, vocab, ctx, dim, heads, layers):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(vocab, dim), nn.Embedding(ctx, dim)
        s.blocks = nn.ModuleList(Block(dim, heads, True) for _ in range(layers)); s.lnf = nn.LayerNorm(dim)
    def forward(s, idx, tgt):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.blocks: x = b(x)
        logits = s.lnf(x) @ s.wte.weight.T
        return logits, F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-1)

class Encoder(nn.Module):
    def __init__(s, vocab, ctx, dim, heads, layers, classes):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(vocab, dim), nn.Embedding(ctx, dim)
        s.blocks = nn.ModuleList(Block(dim, heads, False) for _ in range(layers)); s.lnf = nn.LayerNorm(dim)
        s.head = nn.Linear(dim, classes)
    def forward(s, idx, mask, labels):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.blocks: x = b(x, mask)
        h = s.lnf(x)
        m = mask.to(h.dtype)[:, :, None]
        pooled = (h * m).sum(1) / m.sum(1)
        logits = s.head(pooled)
        return logits, F.cross_entropy(logits, labels)

def randomise(model, generator):
    # Non-trivial values everywhere (layer-norm scales away from 1, biases away from 0) so every path is tested.
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * 0.3)
            if name.endswith("ln1.weight") or name.endswith("ln2.weight") or name.endswith("lnf.weight"):
                p.add_(1.0)
    # Weights are rounded to float32 first: the C# side sees exactly these values.
    for p in model.parameters():
        p.data = p.data.float().double()

def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int32: "I32"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data); offset += len(data)
    header["__metadata__"] = {"producer": "tests/Components/Fixtures/make_golden.py", "torch": torch.__version__}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text))); f.write(text)
        for b in blobs: f.write(b)

def dump(model, extra):
    tensors = {n: p.float() for n, p in model.named_parameters()}
    tensors.update(extra)
    tensors.update({"grad." + n: p.grad.float() for n, p in model.named_parameters()})
    return tensors

def gpt_case():
    g = torch.Generator().manual_seed(1234)
    vocab, ctx, dim, heads, layers, batch, tokens = 33, 9, 12, 3, 2, 2, 7
    model = Gpt(vocab, ctx, dim, heads, layers).double(); randomise(model, g)
    idx = torch.randint(0, vocab, (batch, tokens), generator=g)
    tgt = torch.randint(0, vocab, (batch, tokens), generator=g); tgt[1, 2] = -1  # one ignored position
    logits, loss = model(idx, tgt); loss.backward()
    config = torch.tensor([layers, heads, dim, ctx, vocab, batch, tokens], dtype=torch.int32)
    write_safetensors(OUT / "gpt_golden.safetensors", dump(model, {
        "input.config": config, "input.tokens": idx.int(), "input.targets": tgt.int(),
        "output.logits": logits.float(), "output.loss": loss.reshape(1).float()}))
    print(f"gpt: loss {loss.item():.6f}")

def encoder_case():
    g = torch.Generator().manual_seed(4321)
    vocab, ctx, dim, heads, layers, classes, batch, tokens = 29, 8, 12, 3, 2, 3, 3, 6
    model = Encoder(vocab, ctx, dim, heads, layers, classes).double(); randomise(model, g)
    idx = torch.randint(0, vocab, (batch, tokens), generator=g)
    lengths = [6, 4, 1]
    mask = torch.tensor([[1 if t < n else 0 for t in range(tokens)] for n in lengths], dtype=torch.int32)
    labels = torch.tensor([2, 0, 1])
    logits, loss = model(idx, mask, labels); loss.backward()
    config = torch.tensor([layers, heads, dim, ctx, vocab, batch, tokens, classes], dtype=torch.int32)
    write_safetensors(OUT / "encoder_golden.safetensors", dump(model, {
        "input.config": config, "input.tokens": idx.int(), "input.mask": mask, "input.labels": labels.int(),
        "output.logits": logits.float(), "output.loss": loss.reshape(1).float()}))
    print(f"encoder: loss {loss.item():.6f}")

if __name__ == "__main__":
    torch.manual_seed(0)
    gpt_case(); encoder_case()
