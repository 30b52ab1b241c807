using System.Runtime.CompilerServices;
using LLama;
using LLama.Native;
using LLama.Sampling;

namespace Gateway.Targets.Local;

/// <summary>
/// Generates on a pooled context: clears its memory, decodes the prompt in batches, then samples and
/// decodes one token at a time until an end-of-generation token, the token limit or cancellation.
/// Yields the text of each token (possibly empty while a multi-byte character is incomplete).
/// </summary>
internal static class Generation
{
    public static async IAsyncEnumerable<string> RunAsync(LLamaContext context, IReadOnlyList<LLamaToken> prompt, int maxTokens,
        DefaultSamplingPipeline sampling, (LoraAdapter Adapter, float Scale)? adapter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The context is pooled: set exactly this request's adapter (none clears what a previous request used).
        context.NativeHandle.SetLoraAdapters(adapter is { } a ? [(a.Adapter, a.Scale)] : []);
        context.NativeHandle.MemoryClear(false);
        var batchSize = (int)context.BatchSize;
        var batch = new LLamaBatch();
        for (var i = 0; i < prompt.Count; i++)
        {
            batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
            if (batch.TokenCount == batchSize && i < prompt.Count - 1)
            {
                await DecodeAsync(context, batch, cancellationToken);
                batch.Clear();
            }
        }

        await DecodeAsync(context, batch, cancellationToken);
        var decoder = new StreamingTokenDecoder(context);
        var vocab = context.NativeHandle.ModelHandle.Vocab;
        var position = prompt.Count;
        for (var generated = 0; generated < maxTokens; generated++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Sampling also accepts the token into the sampler chain (repetition penalties, grammar).
            var token = sampling.Sample(context.NativeHandle, batch.TokenCount - 1);
            if (token.IsEndOfGeneration(vocab))
            {
                yield break;
            }

            decoder.Add(token);
            yield return decoder.Read();
            batch.Clear();
            batch.Add(token, position++, LLamaSeqId.Zero, true);
            await DecodeAsync(context, batch, cancellationToken);
        }
    }

    private static async Task DecodeAsync(LLamaContext context, LLamaBatch batch, CancellationToken cancellationToken)
    {
        var result = await context.DecodeAsync(batch, cancellationToken);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp could not decode the batch: {result}");
        }
    }
}
