using System.Text;
using Gateway.OpenAi;

namespace Gateway.Tests.OpenAi;

public sealed class JsonBodyTests
{
    [Theory]
    [InlineData("""{"a":"\ud800"}""")]
    [InlineData("""{"a":"\udc00\ud800"}""")]
    [InlineData("""{"a":"x\uD83D"}""")]
    [InlineData("""{"a":"\ud83d\u0041"}""")]
    [InlineData("""{"\ud800":1}""")]
    public void LoneSurrogateEscapes_AreA400(string json)
    {
        var error = Assert.Throws<OpenAiException>(() => JsonBody.Parse(Encoding.ASCII.GetBytes(json)));

        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_json", error.Code);
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"a":"\ud83d\ude00 ok"}""")]
    [InlineData("""{"a":"\\ud800"}""")]
    [InlineData("""{"a":"\\\"\u00e9\n"}""")]
    [InlineData("""{"a":"\uD83D\uDE00"}""")]
    public void PairedSurrogatesAndEscapedBackslashes_Parse(string json)
    {
        using var document = JsonBody.Parse(Encoding.ASCII.GetBytes(json));

        Assert.NotNull(document.RootElement.GetProperty("a").GetString());
    }

    [Theory]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xC3, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xED, 0xA0, 0x80, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xFF, (byte)'"', (byte)'}' })]
    public void InvalidUtf8_IsA400NamingTheByte(byte[] body)
    {
        var error = Assert.Throws<OpenAiException>(() => JsonBody.Parse(body));

        Assert.Equal(400, error.Status);
        Assert.Contains("byte 7 is not valid UTF-8", error.Message, StringComparison.Ordinal);
    }
}
