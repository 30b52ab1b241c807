# Multi-stage build of the gateway. The shipped policy and classifier are copied next to the
# binary; mount /app/policies (and /app/models/classifier) to use your own.
# Published for the image's architecture only (linux-x64 or linux-arm64): the other platforms' native
# libraries stay out (~190 MB instead of ~490 MB).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH=amd64
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Gateway/Gateway.csproj src/Gateway/
RUN rid="linux-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" \
    && echo "$rid" > /tmp/rid \
    && dotnet restore src/Gateway/Gateway.csproj -r "$rid"
COPY src/ src/
COPY policies/ policies/
COPY models/ models/
RUN dotnet publish src/Gateway/Gateway.csproj -c Release -r "$(cat /tmp/rid)" --self-contained false -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# The local-model backend (llama.cpp's ggml) links OpenMP's libgomp.so.1, which the base image lacks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
# The app user (uid 1654) writes the ledger's spill folder and, through PUT /admin/policy, routing.yaml.
# A bind-mounted ./policies keeps its host owner: make it writable by uid 1654 (see docker-compose.yml).
RUN mkdir -p /app/data && chown -R app:app /app/data /app/policies
ENV ASPNETCORE_URLS=http://+:8080 \
    Policies__Path=/app/policies \
    Ledger__ConnectionString="Data Source=/app/data/gateway.db"
EXPOSE 8080
USER app
ENTRYPOINT ["dotnet", "Gateway.dll"]
