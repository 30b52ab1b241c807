using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.OpenAi;

/// <summary>Reads a request body into memory, enforcing the configured size limit with a 413.</summary>
public static class RequestBodyReader
{
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        RemoveKestrelLimit(context);
        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            throw OpenAiErrors.RequestTooLarge(limit);
        }

        var body = context.Request.Body;
        if (declared is { } length)
        {
            var buffer = new byte[length];
            await body.ReadExactlyAsync(buffer, cancellationToken);
            Noted(context, length);
            return buffer;
        }

        var writer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = writer.GetMemory(4096);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                Noted(context, writer.WrittenCount);
                return writer.WrittenMemory;
            }

            writer.Advance(read);
            if (writer.WrittenCount > limit)
            {
                throw OpenAiErrors.RequestTooLarge(limit);
            }
        }
    }

    /// <summary>
    /// The body of a request the gateway routes. One shorter than <see cref="Hosting.LargeBodyReclaimer.Floor"/>
    /// (64 KiB), as most chat requests are, is read into a buffer rented from the shared pool, which
    /// <see cref="RequestBody.Dispose"/> returns; a larger one gets its own array, so the memory a 15 MiB request held
    /// goes back to the collector rather than to the pool.
    /// </summary>
    public static async Task<RequestBody> ReadPooledAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength is not { } length || length >= Hosting.LargeBodyReclaimer.Floor || length > limit)
        {
            return new RequestBody(await ReadAsync(context, limit, cancellationToken), null);
        }

        RemoveKestrelLimit(context);
        var rented = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            await context.Request.Body.ReadExactlyAsync(rented.AsMemory(0, (int)length), cancellationToken);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }

        return new RequestBody(rented.AsMemory(0, (int)length), rented);
    }

    // Our own limit answers with an OpenAI error; Kestrel's would answer with an empty 413.
    private static void RemoveKestrelLimit(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }
    }

    /// <summary>Large bodies are reported so their memory is given back once they stop (<see cref="Hosting.LargeBodyReclaimer"/>).</summary>
    private static void Noted(HttpContext context, long bytes)
    {
        if (bytes >= Hosting.LargeBodyReclaimer.Floor)
        {
            context.RequestServices.GetService<Hosting.LargeBodyReclaimer>()?.Note(bytes);
        }
    }
}

/// <summary>A request body read by <see cref="RequestBodyReader.ReadPooledAsync"/>; Dispose returns a pooled buffer.</summary>
public sealed class RequestBody(ReadOnlyMemory<byte> memory, byte[]? rented) : IDisposable
{
    private byte[]? _rented = rented;

    public ReadOnlyMemory<byte> Memory { get; } = memory;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
