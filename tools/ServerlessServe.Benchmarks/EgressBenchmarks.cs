using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Local;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The gateway's outbound handlers on its request to the inference app, as the gateway builds them (the HTTP client
/// factory's defaults: the canary egress search with the local stack's canary values, then the allow-list), in front of
/// a handler that writes the body to nowhere instead of a socket. An image forwarded from its tensor
/// (<see cref="V2BinaryRequestContent"/>) is searched where its bytes lie; the same content behind a wrapper that does
/// not hand over its segments is what every request paid before: read into a buffer of its size to be searched.
/// </summary>
[MemoryDiagnoser]
public class EgressBenchmarks
{
    private static readonly Uri Target = new("http://127.0.0.1:7072/api/v2/models/resnet18/versions/1/infer");

    private ServiceProvider _services = null!;
    private HttpClient _client = null!;
    private InferenceRequest _image = null!;
    private InferenceRequest _creditRisk = null!;

    [GlobalSetup]
    public void Setup()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessServe:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["ServerlessServe:Gateway:InferenceBaseUrl"] = "http://127.0.0.1:7072/api",
        }).AddInMemoryCollection(LocalCanaries.GatewaySettings.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value))).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddServerlessServe(configuration).AddCanaries();
        services.AddHttpClient("bench").ConfigurePrimaryHttpMessageHandler(() => new Drain());
        _services = services.BuildServiceProvider();
        _client = _services.GetRequiredService<IHttpClientFactory>().CreateClient("bench");
        _image = new InferenceRequest { Inputs = [BenchmarkData.Image()] };
        _creditRisk = new InferenceRequest { Inputs = [BenchmarkData.CreditRiskFeatures(1)] };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _services.Dispose();
    }

    [Benchmark]
    public Task<HttpStatusCode> Forward_Image_Segmented() => SendAsync(new V2BinaryRequestContent(_image, binaryOutputs: true));

    [Benchmark]
    public Task<HttpStatusCode> Forward_Image_Buffered() => SendAsync(new Unsegmented(new V2BinaryRequestContent(_image, binaryOutputs: true)));

    [Benchmark]
    public Task<HttpStatusCode> Forward_CreditRisk_Segmented() => SendAsync(new V2BinaryRequestContent(_creditRisk, binaryOutputs: true));

    private async Task<HttpStatusCode> SendAsync(HttpContent content)
    {
        using (content)
        {
            using var response = await _client.PostAsync(Target, content).ConfigureAwait(false);
            return response.StatusCode;
        }
    }

    /// <summary>Writes the body to nowhere, as a connection would send it, and answers 200.</summary>
    private sealed class Drain : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await request.Content!.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }

    /// <summary>The same bytes, from a content that does not hand over its segments.</summary>
    private sealed class Unsegmented(HttpContent inner) : HttpContent
    {
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => inner.CopyToAsync(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = inner.Headers.ContentLength ?? -1;
            return length >= 0;
        }
    }
}
