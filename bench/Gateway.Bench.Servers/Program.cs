// Usage:
//   Gateway.Bench.Servers upstream   --urls http://127.0.0.1:5101
//   Gateway.Bench.Servers bare-proxy --urls http://127.0.0.1:5102 --upstream http://127.0.0.1:5101
//
// upstream:   answers POST /v1/chat/completions with a fixed OpenAI JSON body, or with a fixed SSE
//             stream when the request body contains "stream":true. No work per request beyond that,
//             so every proxy in front of it is measured against the same constant.
// bare-proxy: the baseline: YARP's IHttpForwarder forwarding every request unchanged, nothing else.
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

    default:
        throw new ArgumentException($"unknown mode '{mode}'");
}
