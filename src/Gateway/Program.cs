using Gateway.Hosting;

// Settings ship next to the binary, so the gateway starts the same from any working directory;
// relative paths such as Policies:Path still resolve against the working directory first.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddGateway();

var app = builder.Build();
app.MapGateway();
app.Run();

/// <summary>Entry point; public so tests can reference the assembly's host.</summary>
public partial class Program;
