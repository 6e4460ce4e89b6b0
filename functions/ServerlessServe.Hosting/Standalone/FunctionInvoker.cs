using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Calls a function method for one ASP.NET Core request the way the worker would: the class is created from DI, the
/// trigger gets the <see cref="HttpRequest"/>, string parameters get route values, and the returned
/// <see cref="IActionResult"/> is executed (a minimal API would otherwise serialise it as JSON).
/// </summary>
internal sealed class FunctionInvoker
{
    private readonly HttpFunction _function;
    private readonly ObjectFactory? _factory;
    private readonly Func<HttpContext, object?>[] _binders;

    public FunctionInvoker(HttpFunction function)
    {
        _function = function ?? throw new ArgumentNullException(nameof(function));
        _factory = function.Method.IsStatic ? null : ActivatorUtilities.CreateFactory(function.Method.DeclaringType!, Type.EmptyTypes);
        _binders = function.Method.GetParameters().Select(Binder).ToArray();
    }

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = _factory?.Invoke(context.RequestServices, null);
        var arguments = new object?[_binders.Length];
        for (var i = 0; i < _binders.Length; i++)
        {
            arguments[i] = _binders[i](context);
        }

        object? returned;
        try
        {
            returned = _function.Method.Invoke(target, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        var result = returned switch
        {
            Task<IActionResult> task => await task.ConfigureAwait(false),
            ValueTask<IActionResult> valueTask => await valueTask.ConfigureAwait(false),
            IActionResult actionResult => actionResult,
            Task task => await AwaitPlain(task).ConfigureAwait(false),
            _ => null,
        };

        if (result is not null)
        {
            var actionContext = new ActionContext(context, context.GetRouteData(), new ActionDescriptor());
            await result.ExecuteResultAsync(actionContext).ConfigureAwait(false);
        }

        if (target is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else if (target is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    private static async Task<IActionResult?> AwaitPlain(Task task)
    {
        await task.ConfigureAwait(false);
        return null;
    }

    private Func<HttpContext, object?> Binder(ParameterInfo parameter)
    {
        if (parameter.ParameterType == typeof(HttpRequest))
        {
            return c => c.Request;
        }

        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return c => c.RequestAborted;
        }

        if (parameter.ParameterType == typeof(string))
        {
            var name = parameter.Name!;
            return c => c.GetRouteValue(name) as string;
        }

        // Any other parameter is an input binding the Functions host would supply (a durable client, say): the standalone
        // host takes it from the app's services, and a missing service fails the request loudly.
        var type = parameter.ParameterType;
        return c => c.RequestServices.GetRequiredService(type);
    }
}
