// Usage:
//   Gateway.Bench.Servers upstream   --urls http://127.0.0.1:5101
//   Gateway.Bench.Servers bare-proxy --urls http://127.0.0.1:5102 --upstream http://127.0.0.1:5101
//   Gateway.Bench.Servers ttfb       --target http://127.0.0.1:5103 --key KEY --body chat-stream.json [--requests 300]
//
// upstream:   answers POST /v1/chat/completions with a fixed OpenAI JSON body, or with a fixed SSE
//             stream when the request body contains "stream":true. No work per request beyond that,
//             so every proxy in front of it is measured against the same constant.
//             With the request header x-bench-ttfb, the stream's first event carries "sent": the upstream's
//             monotonic clock (Stopwatch, CLOCK_MONOTONIC: the same clock in every process on the machine)
//             when it wrote that event, and the rest follows 20 ms later.
// bare-proxy: the baseline: YARP's IHttpForwarder forwarding every request unchanged, nothing else.
// ttfb:       sends streamed requests one at a time with x-bench-ttfb and reports how long the first event took
//             from the upstream's write to this client (the proxy's relay delay) and from the request (TTFB),
//             p50/p90/p99 in µs.
using System.Net;
using System.Text;
using Yarp.ReverseProxy.Forwarder;

var mode = args.FirstOrDefault() ?? throw new ArgumentException("mode: upstream | bare-proxy");
var builder = WebApplication.CreateSlimBuilder(args.Skip(1).ToArray());
builder.Logging.ClearProviders();

switch (mode)
{
    case "upstream":
    {
        var app = builder.Build();
        var json = Encoding.UTF8.GetBytes("""{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"The answer is 4."},"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":6,"total_tokens":31}}""");
        var sse = new StringBuilder();
        foreach (var word in new[] { "The", " answer", " is", " 4", "." })
        {
            sse.Append("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"")
                .Append(word).Append("\"},\"finish_reason\":null}],\"usage\":null}\n\n");
        }

        sse.Append("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":6,\"total_tokens\":31}}\n\n");
        sse.Append("data: [DONE]\n\n");
        var sseBytes = Encoding.UTF8.GetBytes(sse.ToString());
        app.Run(async context =>
        {
            var buffer = new byte[64 * 1024];
            int total = 0, read;
            while (total < buffer.Length && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(total))) > 0)
            {
                total += read;
            }

            var stream = buffer.AsSpan(0, total).IndexOf("\"stream\":true"u8) >= 0;
            if (stream && context.Request.Headers.ContainsKey("x-bench-ttfb"))
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.StartAsync();
                var first = Encoding.UTF8.GetBytes(
                    "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The\"},\"finish_reason\":null}],\"sent\":"
                    + System.Diagnostics.Stopwatch.GetTimestamp() + "}\n\n");
                await context.Response.Body.WriteAsync(first);
                await context.Response.Body.FlushAsync();
                await Task.Delay(20);
                await context.Response.Body.WriteAsync(sseBytes);
                return;
            }

            context.Response.ContentType = stream ? "text/event-stream" : "application/json";
            var body = stream ? sseBytes : json;
            if (!stream)
            {
                context.Response.ContentLength = body.Length;
            }

            await context.Response.Body.WriteAsync(body);
        });
        app.Run();
        break;
    }

    case "bare-proxy":
    {
        var upstream = builder.Configuration["upstream"] ?? throw new ArgumentException("--upstream http://host:port");
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
        });
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        app.Run(async context => await forwarder.SendAsync(context, upstream, invoker));
        app.Run();
        break;
    }

    case "ttfb":
    {
        var target = builder.Configuration["target"] ?? throw new ArgumentException("--target http://host:port");
        var key = builder.Configuration["key"] ?? "none";
        var requestBody = await File.ReadAllBytesAsync(builder.Configuration["body"] ?? throw new ArgumentException("--body file.json"));
        var requests = int.Parse(builder.Configuration["requests"] ?? "300", System.Globalization.CultureInfo.InvariantCulture);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var relay = new List<double>();
        var ttfb = new List<double>();
        for (var i = 0; i < requests + 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target.TrimEnd('/') + "/v1/chat/completions")
            {
                Content = new ByteArrayContent(requestBody) { Headers = { ContentType = new("application/json") } },
            };
            request.Headers.Authorization = new("Bearer", key);
            request.Headers.Add("x-bench-ttfb", "1");
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[8192];
            var filled = 0;
            long received = 0;
            while (filled < buffer.Length)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(filled));
                if (read == 0)
                {
                    break;
                }

                received = received == 0 ? System.Diagnostics.Stopwatch.GetTimestamp() : received;
                filled += read;
                if (buffer.AsSpan(0, filled).IndexOf("\n\n"u8) >= 0)
                {
                    break; // the first event is here
                }
            }

            var text = Encoding.UTF8.GetString(buffer, 0, filled);
            var at = text.IndexOf("\"sent\":", StringComparison.Ordinal);
            if (at < 0)
            {
                throw new InvalidOperationException($"the first event has no \"sent\" stamp: {text}");
            }

            var sent = long.Parse(text.AsSpan(at + 7, text.IndexOf('}', at) - at - 7), System.Globalization.CultureInfo.InvariantCulture);
            await stream.CopyToAsync(Stream.Null); // the rest, so the connection is reused
            if (i >= 20)
            {
                // The first 20 warm the connection and the code paths.
                relay.Add(System.Diagnostics.Stopwatch.GetElapsedTime(sent, received).TotalMicroseconds);
                ttfb.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started, received).TotalMicroseconds);
            }
        }

        static double Percentile(List<double> values, double p)
        {
            var sorted = values.Order().ToArray();
            return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        }

        Console.WriteLine(System.FormattableString.Invariant(
            $"relay_p50={Percentile(relay, 0.5):F0} relay_p90={Percentile(relay, 0.9):F0} relay_p99={Percentile(relay, 0.99):F0} ttfb_p50={Percentile(ttfb, 0.5):F0} ttfb_p99={Percentile(ttfb, 0.99):F0}"));
        break;
    }

    default:
        throw new ArgumentException($"unknown mode '{mode}'");
}
