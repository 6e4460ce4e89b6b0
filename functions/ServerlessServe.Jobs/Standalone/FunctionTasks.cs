using System.Reflection;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Hosting.Standalone;

namespace ServerlessServe.Jobs.Standalone;

/// <summary>
/// Runs the app's orchestrator and activity functions (from <c>functions.metadata</c>) on the Durable Task SDK worker:
/// the same methods the Functions host's Durable extension calls. An orchestrator function takes the
/// <see cref="TaskOrchestrationContext"/> and reads its input as a JSON string; an activity function takes its input.
/// </summary>
internal static class FunctionTasks
{
    public const string OrchestrationTrigger = "orchestrationTrigger";
    public const string ActivityTrigger = "activityTrigger";

    public static void Register(DurableTaskRegistry registry, StandaloneFunctions functions)
    {
        foreach (var function in functions.WithTrigger(OrchestrationTrigger))
        {
            var orchestrator = new MethodOrchestrator(function.Method);
            registry.AddOrchestrator(function.Name, () => orchestrator);
        }

        foreach (var function in functions.WithTrigger(ActivityTrigger))
        {
            registry.AddActivity(function.Name, services => new MethodActivity(function.Method, services));
        }
    }

    private static Type ResultType(MethodInfo method) =>
        method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>)
            ? method.ReturnType.GetGenericArguments()[0]
            : typeof(object);

    // Continuations stay on the caller's context: an orchestrator's code must resume on the orchestration's own
    // single-threaded context, or its episode ends before it does (and its completion is never reported).
    private static async Task<object?> AwaitResult(object? returned) => returned switch
    {
        Task task => await AwaitTask(task).ConfigureAwait(true),
        _ => returned,
    };

    private static async Task<object?> AwaitTask(Task task)
    {
        await task.ConfigureAwait(true);
        return task.GetType().IsGenericType ? task.GetType().GetProperty("Result")!.GetValue(task) : null;
    }

    private static object? Invoke(MethodInfo method, object? target, object?[] arguments)
    {
        try
        {
            return method.Invoke(target, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }

    private sealed class MethodOrchestrator(MethodInfo method) : ITaskOrchestrator
    {
        public Type InputType => typeof(string);

        public Type OutputType => ResultType(method);

        public Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
        {
            if (!method.IsStatic || method.GetParameters() is not [{ } only] || only.ParameterType != typeof(TaskOrchestrationContext))
            {
                throw new InvalidOperationException($"Orchestrator {method.Name} must be static and take only its TaskOrchestrationContext.");
            }

            return AwaitResult(Invoke(method, null, [context]));
        }
    }

    private sealed class MethodActivity(MethodInfo method, IServiceProvider services) : ITaskActivity
    {
        public Type InputType => method.GetParameters() is [{ } input, ..] ? input.ParameterType : typeof(object);

        public Type OutputType => ResultType(method);

        public Task<object?> RunAsync(TaskActivityContext context, object? input)
        {
            var target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
            var parameters = method.GetParameters();
            var arguments = new object?[parameters.Length];
            arguments[0] = input;
            for (var i = 1; i < parameters.Length; i++)
            {
                arguments[i] = parameters[i].ParameterType == typeof(CancellationToken) ? CancellationToken.None : services.GetRequiredService(parameters[i].ParameterType);
            }

            return AwaitResult(Invoke(method, target, arguments));
        }
    }
}
