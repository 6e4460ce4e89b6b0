using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Tests.Identity;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// A stand-in for the inference app on loopback Kestrel, answering each request as the test decides, and the gateway's
/// client of it built as the gateway registers it: real sockets, real HTTP framing and the real resilience pipeline
/// (retries, per-model breaker, attempt timeout) lie between them. It records the path of every request that reached it.
/// One per test; each <see cref="Http"/> or <see cref="Client"/> is a client of its own, with breakers of its own.
/// </summary>
internal sealed class InferenceStandIn : IAsyncDisposable
{
    /// <summary>
    /// The most an <see cref="Answer.Endless"/> body sends: eight times the largest answer the gateway takes by default
    /// (<see cref="ProtocolLimits.ResponseBodyLimit"/>), so a client that never stops reading fails its test, not hangs it.
    /// </summary>
    private static readonly long EndlessCap = 8L * new ProtocolLimits().ResponseBodyLimit;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _paths = new();
    private readonly ConcurrentBag<ServiceProvider> _clients = [];
    private readonly CancellationTokenSource _stopping = new();

    private InferenceStandIn(Func<HttpRequest, Answer> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(http => AnswerAsync(http, answer));
    }

    /// <summary>The app's base address, as the gateway is configured with it (the Functions host's <c>/api/</c> prefix).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<InferenceStandIn> StartAsync(Func<HttpRequest, Answer> answer)
    {
        var standIn = new InferenceStandIn(answer);
        await standIn._app.StartAsync();
        standIn.BaseAddress = new Uri(standIn._app.Urls.First() + "/api/");
        return standIn;
    }

    /// <summary>How many requests reached the stand-in on a path containing <paramref name="fragment"/>.</summary>
    public int Calls(string fragment) => _paths.Count(p => p.Contains(fragment, StringComparison.Ordinal));

    /// <summary>
    /// The inference client's <see cref="HttpClient"/> as <c>AddInferenceClient</c> registers it (base address, overall
    /// timeout, <see cref="InferenceResilience.AddTo"/>) over the default primary handler, with the gateway's options as
    /// <paramref name="configure"/> leaves them.
    /// </summary>
    public HttpClient Http(Action<GatewayOptions>? configure = null)
    {
        var options = new GatewayOptions { InferenceBaseUrl = BaseAddress };
        configure?.Invoke(options);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        InferenceResilience.AddTo(services.AddHttpClient(InferenceClient.HttpClientName, http =>
        {
            http.BaseAddress = options.InferenceBaseUrl;
            http.Timeout = options.InferenceTimeout;
        }));
        var provider = services.BuildServiceProvider();
        _clients.Add(provider);
        return provider.GetRequiredService<IHttpClientFactory>().CreateClient(InferenceClient.HttpClientName);
    }

    /// <summary>
    /// The gateway's <see cref="InferenceClient"/> over <see cref="Http"/>, with a service token always to be had.
    /// <paramref name="time"/> is the client's clock (its readiness reuse) and the token's, not the pipeline's.
    /// </summary>
    public InferenceClient Client(Action<GatewayOptions>? configure = null, TimeProvider? time = null, ILogger<InferenceClient>? logger = null)
    {
        time ??= TimeProvider.System;
        var tokens = new ServiceTokenCache(
            new ScriptedCredential(time),
            Microsoft.Extensions.Options.Options.Create(new ServiceTokenOptions { Resource = "api://inference" }),
            time,
            NullLogger<ServiceTokenCache>.Instance);
        return new InferenceClient(Http(configure), tokens, new ProtocolLimits(), logger ?? NullLogger<InferenceClient>.Instance, time);
    }

    /// <summary>The credit-risk sample's version 1, as the gateway resolves and verifies it.</summary>
    public static Core.Artifacts.VerifiedModelVersion CreditRisk()
    {
        var package = Core.Tests.Artifacts.TestPackages.CreditRisk("credit-risk", "1");
        return new Core.Artifacts.VerifiedModelVersion(package.Manifest, package.ManifestDigest, Core.Policy.PolicyLoader.Parse(Local.Samples.SampleModels.GetPolicy(Local.Samples.CreditRiskSample.Name)));
    }

    public static InferenceRequest CreditRiskRequest() =>
        V2Json.ReadRequest("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}"""u8.ToArray(), null, new ProtocolLimits());

    public async ValueTask DisposeAsync()
    {
        // An endless body still being written ends now, not at the host's shutdown timeout.
        await _stopping.CancelAsync();
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task AnswerAsync(HttpContext http, Func<HttpRequest, Answer> answerFor)
    {
        _paths.Enqueue(http.Request.Path.Value ?? string.Empty);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);

        // Read whole first, as the app does: the answer never races the request's upload.
        await http.Request.Body.CopyToAsync(Stream.Null, ended.Token);
        var answer = answerFor(http.Request);
        http.Response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers)
        {
            http.Response.Headers.Append(name, value);
        }

        if (answer.Endless)
        {
            // Chunked, without a length: the client learns it is too large only by reading, and stops by going away.
            ArgumentOutOfRangeException.ThrowIfZero(answer.Body.Length);
            try
            {
                for (long sent = 0; sent < EndlessCap && !ended.IsCancellationRequested; sent += answer.Body.Length)
                {
                    await http.Response.Body.WriteAsync(answer.Body, ended.Token);
                }
            }
            catch (OperationCanceledException) when (ended.IsCancellationRequested)
            {
            }

            return;
        }

        // Cut off: the whole body's length declared, part of it sent, and the handler ends. Kestrel sends what was written
        // and closes the connection (it cannot finish the body), as a process that died mid-body leaves it: the client has
        // the headers and then finds the connection ended. HttpContext.Abort() would drop whatever Kestrel had not yet
        // handed to the socket, the headers too at times, and the call would fail before its answer and be retried.
        http.Response.ContentLength = answer.Body.Length;
        await http.Response.Body.WriteAsync(answer.Body.AsMemory(0, answer.CutOffAfter ?? answer.Body.Length), ended.Token);
    }

    /// <summary>One answer of the stand-in: a status, headers and a body, sent whole unless told otherwise.</summary>
    internal sealed record Answer(int Status, byte[] Body)
    {
        public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];

        /// <summary>Sends the headers, with the whole body's Content-Length, and this many bytes of it; then the connection ends.</summary>
        public int? CutOffAfter { get; init; }

        /// <summary>Sends <see cref="Body"/> (not empty) again and again, chunked, until the client goes away.</summary>
        public bool Endless { get; init; }

        public static Answer Json(int status, string json, params (string Name, string Value)[] headers) =>
            new(status, Encoding.UTF8.GetBytes(json)) { Headers = [("Content-Type", "application/json"), .. headers] };

        /// <summary>A 200 with a binary V2 response as the inference app sends it: a JSON header, its length in a header of its own, the outputs after it.</summary>
        public static Answer V2(EncodedBody encoded) => new(200, encoded.Body)
        {
            Headers = [("Content-Type", encoded.ContentType), (EncodedBody.HeaderLengthHeaderName, encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        };
    }
}
