using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Hosting.Admin;

namespace ServerlessServe.Admin;

/// <summary>
/// The admin plane under <c>/api/manage/</c> (the Functions host keeps routes starting with <c>admin</c> or
/// <c>runtime</c> for itself). Each is a one-line adapter over <see cref="AdminEndpoints"/>; every route but health needs
/// an admin token (the admin app's audience, role <c>Serving.Admin</c>), and every action is audited.
/// </summary>
public sealed class ManageFunctions(AdminEndpoints admin)
{
    [Function("ManageHealth")]
    public static IActionResult Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "manage/health")] HttpRequest request) =>
        AdminEndpoints.Health();

    [Function("ListModels")]
    public Task<IActionResult> ListModels([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "manage/models")] HttpRequest request) =>
        admin.ListModelsAsync(request);

    [Function("PublishModel")]
    public Task<IActionResult> Publish([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/models")] HttpRequest request) =>
        admin.PublishAsync(request);

    [Function("QuarantineVersion")]
    public Task<IActionResult> Quarantine(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/models/{model}/versions/{version}/quarantine")] HttpRequest request, string model, string version) =>
        admin.QuarantineAsync(request, model, version);

    [Function("RestoreVersion")]
    public Task<IActionResult> Restore(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "manage/models/{model}/versions/{version}/quarantine")] HttpRequest request, string model, string version) =>
        admin.RestoreAsync(request, model, version);

    [Function("PublishLifecycle")]
    public Task<IActionResult> PublishLifecycle(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/models/{model}/lifecycle")] HttpRequest request, string model) =>
        admin.PublishLifecycleAsync(request, model);

    [Function("PublishRevocations")]
    public Task<IActionResult> PublishRevocations([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/revocations")] HttpRequest request) =>
        admin.PublishRevocationsAsync(request);

    [Function("BlockCaller")]
    public Task<IActionResult> Block([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/blocks")] HttpRequest request) =>
        admin.BlockAsync(request);

    [Function("UnblockCaller")]
    public Task<IActionResult> Unblock([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "manage/blocks/{caller}")] HttpRequest request, string caller) =>
        admin.UnblockAsync(request, caller);

    [Function("RevokeSigner")]
    public Task<IActionResult> RevokeSigner(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/signing-keys/{keyId}/revocation")] HttpRequest request, string keyId) =>
        admin.RevokeSignerAsync(request, keyId);

    [Function("RevokeTokens")]
    public Task<IActionResult> RevokeTokens([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/token-revocations")] HttpRequest request) =>
        admin.RevokeTokensAsync(request);

    [Function("RegisterRequestKey")]
    public Task<IActionResult> RegisterRequestKey([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/request-keys")] HttpRequest request) =>
        admin.RegisterRequestKeyAsync(request);

    [Function("RevokeRequestKey")]
    public Task<IActionResult> RevokeRequestKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "manage/request-keys/{caller}/{keyId}")] HttpRequest request, string caller, string keyId) =>
        admin.RevokeRequestKeyAsync(request, caller, keyId);

    [Function("SecurityEvents")]
    public Task<IActionResult> SecurityEvents([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "manage/security-events")] HttpRequest request) =>
        admin.SecurityEventsAsync(request);

    [Function("AuditCheckpoints")]
    public Task<IActionResult> Checkpoints([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "manage/audit/checkpoints")] HttpRequest request) =>
        admin.CheckpointsAsync(request);
}
