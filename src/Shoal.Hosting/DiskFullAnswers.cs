using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Core.IO;

namespace Shoal.Hosting;

/// <summary>
/// Every component's answer to a request that failed because its disk is full: 507 Insufficient
/// Storage with a ProblemDetails body naming the component, instead of an unhandled-exception 500.
/// Nothing was acknowledged (the writers remove what they had written). Put first in every
/// component's pipeline by <see cref="ServiceHost.CreateBuilder"/>; components that answer in the
/// registry's error format (proxy, agent) handle their own failures before this is reached.
/// </summary>
internal sealed partial class DiskFullAnswers(string component) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Shoal.Hosting.DiskFull");
        app.Use(async (context, nextStep) =>
        {
            try
            {
                await nextStep(context);
            }
            catch (Exception ex) when (DiskFull.Is(ex) && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                Log.DiskFull(logger, context.Request.Method, context.Request.Path, ex.Message);
                context.Response.Clear();
                await Results.Problem(statusCode: StatusCodes.Status507InsufficientStorage, title: "insufficient storage",
                    detail: $"the {component}'s disk is full: {ex.Message}").ExecuteAsync(context);
            }
        });
        next(app);
    };

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Method} {Path} failed: the disk is full ({Reason})")]
        public static partial void DiskFull(ILogger logger, string method, string path, string reason);
    }
}
