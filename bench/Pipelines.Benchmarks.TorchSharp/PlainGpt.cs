using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Pipelines.Benchmarks.TorchSharp;

/// <summary>
/// A minimal GPT written directly with TorchSharp, as a TorchSharp user would: pre-LN blocks
/// (<c>x + proj(SDPA(ln1(x)))</c>, <c>+ out(GELU_tanh(fc(ln2(x))))</c>), learned positions, a final layer norm and a
/// head tied to the token embedding. The same architecture and parameter names as the engine's GPT, so the engine's
/// seed-0 initialisation copies in by name; none of this project's modules are used.
/// </summary>
/// <remarks>Legend: B = batch, T = tokens, C = channels, H = heads, V = vocabulary.</remarks>
internal sealed class PlainGpt : Module<Tensor, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly ModuleList<PlainBlock> blocks;
    private readonly LayerNorm lnf;

    public PlainGpt(int layers, int heads, int channels, int context, int vocabulary, Device device)
        : base(nameof(PlainGpt))
    {
        wte = Embedding(vocabulary, channels, device: device);
        wpe = Embedding(context, channels, device: device);
        blocks = new ModuleList<PlainBlock>(Enumerable.Range(0, layers).Select(_ => new PlainBlock(channels, heads, device)).ToArray());
        lnf = LayerNorm(channels, eps: 1e-5, device: device);
        RegisterComponents();
    }

    /// <summary>Logits [B, T, V] of tokens [B, T] (int64).</summary>
    public override Tensor forward(Tensor tokens)
    {
        var x = wte.forward(tokens) + wpe.forward(arange(tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device));
        foreach (var block in blocks) x = block.forward(x);
        return functional.linear(lnf.forward(x), wte.weight!);
    }
}

/// <summary>One pre-LN causal block: <c>ln1 qkv proj ln2 fc out</c>.</summary>
internal sealed class PlainBlock : Module<Tensor, Tensor>
{
    private readonly int heads;
    private readonly LayerNorm ln1;
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly LayerNorm ln2;
    private readonly Linear fc;
    private readonly Linear @out;

    public PlainBlock(int channels, int heads, Device device)
        : base(nameof(PlainBlock))
    {
        this.heads = heads;
        ln1 = LayerNorm(channels, eps: 1e-5, device: device);
        qkv = Linear(channels, 3 * channels, device: device);
        proj = Linear(channels, channels, device: device);
        ln2 = LayerNorm(channels, eps: 1e-5, device: device);
        fc = Linear(channels, 4 * channels, device: device);
        @out = Linear(4 * channels, channels, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (b, t, c) = (x.shape[0], x.shape[1], x.shape[2]);
        var parts = qkv.forward(ln1.forward(x)).split(c, 2);                                           // 3 x [B, T, C]
        var (q, k, v) = (Heads(parts[0]), Heads(parts[1]), Heads(parts[2]));                            // [B, H, T, C/H]
        var attended = functional.scaled_dot_product_attention(q, k, v, is_casual: true);               // [B, H, T, C/H]
        x = x + proj.forward(attended.transpose(1, 2).reshape(b, t, c));
        return x + @out.forward(functional.gelu(fc.forward(ln2.forward(x)), global::TorchSharp.Modules.GELU.Approximate.tanh));

        Tensor Heads(Tensor part) => part.view(b, t, heads, c / heads).transpose(1, 2);
    }
}
