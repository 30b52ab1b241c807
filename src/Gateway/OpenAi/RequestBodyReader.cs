using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.OpenAi;

/// <summary>Reads a request body into memory, enforcing the configured size limit with a 413.</summary>
public static class RequestBodyReader
{
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        // Our own limit answers with an OpenAI error; Kestrel's would answer with an empty 413.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = null;
        }

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
            return buffer;
        }

        var writer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = writer.GetMemory(4096);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return writer.WrittenMemory;
            }

            writer.Advance(read);
            if (writer.WrittenCount > limit)
            {
                throw OpenAiErrors.RequestTooLarge(limit);
            }
        }
    }
}
