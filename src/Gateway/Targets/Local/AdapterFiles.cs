namespace Gateway.Targets.Local;

/// <summary>LoRA files as the gateway finds them: resolved against the content root, read for their GGUF metadata.</summary>
internal sealed class AdapterFiles(LocalModelHost models, IHostEnvironment hostEnvironment) : IAdapterFiles
{
    public string? Missing(string file)
    {
        var path = Hosting.AppFiles.Resolve(file, hostEnvironment.ContentRootPath);
        return File.Exists(path) ? null : $"adapter file not found: {path}";
    }

    /// <summary>An adapter file that exists must be a GGUF LoRA adapter matching the base model's architecture.</summary>
    public string? Check(string baseModel, string file)
    {
        var path = Hosting.AppFiles.Resolve(file, hostEnvironment.ContentRootPath);
        if (!File.Exists(path))
        {
            return null;
        }

        IReadOnlyDictionary<string, object> metadata;
        try
        {
            metadata = GgufMetadata.Read(path);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            return $"{path} is not a readable GGUF file ({ex.Message})";
        }

        if (metadata.GetValueOrDefault("general.type") as string != "adapter" || metadata.GetValueOrDefault("adapter.type") as string != "lora")
        {
            return $"{path} is not a LoRA adapter (general.type={metadata.GetValueOrDefault("general.type") ?? "none"}, adapter.type={metadata.GetValueOrDefault("adapter.type") ?? "none"}); convert it with llama.cpp's convert_lora_to_gguf.py";
        }

        var architecture = metadata.GetValueOrDefault("general.architecture") as string;
        return models[baseModel]?.Architecture is { } baseArchitecture && architecture != baseArchitecture
            ? $"{path} is a LoRA for '{architecture}' models, but base model '{baseModel}' is '{baseArchitecture}'"
            : null;
    }
}
