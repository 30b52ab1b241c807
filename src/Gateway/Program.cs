using Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddGateway();

var app = builder.Build();
app.MapGateway();
app.Run();

/// <summary>Entry point; public so tests can reference the assembly's host.</summary>
public partial class Program;
