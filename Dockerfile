# Multi-stage build of the gateway. The shipped policy and classifier are copied next to the
# binary; mount /app/policies (and /app/models/classifier) to use your own.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Gateway/Gateway.csproj src/Gateway/
RUN dotnet restore src/Gateway/Gateway.csproj
COPY src/ src/
COPY policies/ policies/
COPY models/ models/
RUN dotnet publish src/Gateway/Gateway.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
RUN mkdir -p /app/data && chown -R app:app /app/data /app/policies
ENV ASPNETCORE_URLS=http://+:8080 \
    Policies__Path=/app/policies \
    Ledger__ConnectionString="Data Source=/app/data/gateway.db"
EXPOSE 8080
USER app
ENTRYPOINT ["dotnet", "Gateway.dll"]
