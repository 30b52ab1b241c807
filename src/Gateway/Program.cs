using Gateway.Hosting;

// Settings ship next to the binary, so the gateway starts the same from any working directory;
// relative paths such as Policies:Path still resolve against the working directory first.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddGateway();

var app = builder.Build();

// A wrong setting or policy: every problem, one line each, exit code 2; no stack trace.
if (StartupCheck.Problems(app.Services) is { Count: > 0 } problems)
{
    StartupCheck.Report(problems, Console.Error);
    return 2;
}

// The database at this release's schema before anything starts (SchemaMigrationService does the same for hosts
// built without this file); a database upgraded by a newer release stops this one, exit code 2.
try
{
    await SchemaMigrationService.MigrateAtStartAsync(app.Services.GetRequiredService<GatewayDatabase>(),
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<SchemaMigrationService>(), CancellationToken.None);
}
catch (SchemaTooNewException ex)
{
    Console.Error.WriteLine($"The gateway cannot start: {ex.Message}");
    return 2;
}

// The offline form of POST /admin/policy/simulate, against the configured ledger.
if (args is ["simulate", ..])
{
    return await SimulateCommand.RunAsync(app.Services, args[1..], Console.Out, Console.Error);
}

app.MapGateway();
try
{
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is not OutOfMemoryException)
{
    // The address is in use, a folder cannot be written…: the cause is the message (the host has logged the details).
    Console.Error.WriteLine($"The gateway stopped: {ex.Message}");
    return 1;
}

/// <summary>Entry point; public so tests can reference the assembly's host.</summary>
public partial class Program;
