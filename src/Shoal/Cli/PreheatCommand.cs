using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Shoal.Cli;

/// <summary>
/// <c>shoal preheat IMAGE</c>: asks a proxy to preheat an image (<c>POST /v1/preheat/jobs</c>) and
/// follows the job (<c>GET /v1/preheat/jobs/{id}</c>) with a progress bar per blob until it ends.
/// Exit 0 when the job succeeded, 1 when it failed, 2 for bad arguments.
/// </summary>
internal static class PreheatCommand
{
    private const int BarWidth = 24;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static void WriteUsage(TextWriter writer)
    {
        writer.WriteLine("Usage: shoal preheat IMAGE [--scope SCOPE] [--platform OS/ARCH[/VARIANT]]... [--proxy URL] [--token TOKEN] [--no-wait]");
        writer.WriteLine();
        writer.WriteLine("Warms the origins (and, with scope all_peers, the agents) with IMAGE before nodes pull it.");
        writer.WriteLine("IMAGE is [REGISTRY/]REPOSITORY[:TAG|@DIGEST] or a manifest URL; without REGISTRY the");
        writer.WriteLine("image is one pushed to Shoal itself; a REGISTRY must be one of proxy:preheat:upstreams.");
        writer.WriteLine();
        writer.WriteLine("Options:");
        writer.WriteLine("  --scope SCOPE       single_seed_peer (default: one origin per blob), all_seed_peers");
        writer.WriteLine("                      (every owner origin) or all_peers (origins and every agent)");
        writer.WriteLine("  --platform P        preheat only this platform of an index (repeatable; default all)");
        writer.WriteLine("  --proxy URL         the proxy (default $SHOAL_PROXY or http://127.0.0.1:15000)");
        writer.WriteLine("  --token TOKEN       a token of proxy:preheat:tokens (default $SHOAL_PREHEAT_TOKEN)");
        writer.WriteLine("  --no-wait           print the job id and exit without following it");
        writer.WriteLine("  -h, --help          show this help");
        writer.WriteLine();
        writer.WriteLine("Exit codes: 0 the preheat succeeded, 1 it failed (or the proxy refused it), 2 bad arguments.");
    }

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? image = null;
        string? scope = null;
        var platforms = new List<string>();
        var proxy = Environment.GetEnvironmentVariable("SHOAL_PROXY") is { Length: > 0 } env ? env : "http://127.0.0.1:15000";
        var token = Environment.GetEnvironmentVariable("SHOAL_PREHEAT_TOKEN");
        var wait = true;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "-h" or "--help":
                    WriteUsage(stdout);
                    return ExitCodes.Success;
                case "--scope":
                    scope = Value();
                    break;
                case "--platform":
                    platforms.Add(Value());
                    break;
                case "--proxy":
                    proxy = Value();
                    break;
                case "--token":
                    token = Value();
                    break;
                case "--no-wait":
                    wait = false;
                    break;
                case var other when other.StartsWith('-'):
                    throw new UsageException($"unknown option '{other}'");
                default:
                    image = image is null ? args[i] : throw new UsageException($"one image at a time ('{image}' and '{args[i]}')");
                    break;
            }
        }
        if (image is null)
        {
            throw new UsageException("preheat needs an IMAGE");
        }
        if (!Uri.TryCreate(proxy, UriKind.Absolute, out var proxyUri) || proxyUri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--proxy '{proxy}' is not an http(s) URL");
        }

        using var http = new HttpClient { BaseAddress = new Uri(proxyUri.AbsoluteUri.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        var body = JsonSerializer.Serialize(new Dictionary<string, object?> { ["image"] = image, ["scope"] = scope, ["platforms"] = platforms }, CliJsonContext.Default.DictionaryStringObject);
        using var created = await http.PostAsync("v1/preheat/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        var createdText = await created.Content.ReadAsStringAsync();
        if (!created.IsSuccessStatusCode)
        {
            stderr.WriteLine($"shoal: the proxy refused the preheat ({(int)created.StatusCode}): {Detail(createdText)}");
            return ExitCodes.Failure;
        }
        var id = JsonDocument.Parse(createdText).RootElement.GetProperty("id").GetInt64();
        stdout.WriteLine($"preheat job {id}: {image}");
        if (!wait)
        {
            return ExitCodes.Success;
        }

        var live = !Console.IsOutputRedirected && ReferenceEquals(stdout, Console.Out);
        var drawn = 0;
        var printed = new Dictionary<string, string>();
        while (true)
        {
            using var response = await http.GetAsync($"v1/preheat/jobs/{id}");
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                stderr.WriteLine($"shoal: reading job {id} failed ({(int)response.StatusCode}): {Detail(text)}");
                return ExitCodes.Failure;
            }
            using var job = JsonDocument.Parse(text);
            var root = job.RootElement;
            var state = root.GetProperty("state").GetString();
            var lines = Render(root);
            if (live)
            {
                if (drawn > 0)
                {
                    stdout.Write($"\u001b[{drawn}A");
                }
                foreach (var line in lines)
                {
                    stdout.WriteLine("\u001b[2K" + line.Text);
                }
                drawn = lines.Count;
            }
            else
            {
                // Redirected output: one line per change, no cursor movement.
                foreach (var line in lines)
                {
                    if (!printed.TryGetValue(line.Key, out var last) || last != line.Text)
                    {
                        stdout.WriteLine(line.Text);
                        printed[line.Key] = line.Text;
                    }
                }
            }
            if (state is "succeeded")
            {
                stdout.WriteLine($"preheat job {id} succeeded");
                return ExitCodes.Success;
            }
            if (state is "failed")
            {
                stderr.WriteLine($"shoal: preheat job {id} failed: {(root.TryGetProperty("error", out var e) ? e.GetString() : "unknown error")}");
                return ExitCodes.Failure;
            }
            await Task.Delay(PollInterval);
        }
    }

    private static List<(string Key, string Text)> Render(JsonElement job)
    {
        var lines = new List<(string, string)>();
        var total = job.TryGetProperty("totalBytes", out var t) ? t.GetInt64() : 0;
        var done = job.TryGetProperty("doneBytes", out var d) ? d.GetInt64() : 0;
        lines.Add(("job", $"{job.GetProperty("state").GetString(),-10} {Bar(done, total)} {Size(done)} / {Size(total)}"));
        if (job.TryGetProperty("blobs", out var blobs))
        {
            foreach (var blob in blobs.EnumerateArray())
            {
                var digest = blob.GetProperty("digest").GetString()!;
                var size = blob.GetProperty("size").GetInt64();
                var state = blob.GetProperty("state").GetString();
                var finished = state == "succeeded" ? size : 0;
                var error = blob.TryGetProperty("error", out var e) ? "  " + e.GetString() : string.Empty;
                lines.Add((digest, $"  {digest[..Math.Min(19, digest.Length)]} {Bar(finished, size)} {Size(size),10} {state}{error}"));
            }
        }
        return lines;
    }

    private static string Bar(long done, long total)
    {
        var filled = total <= 0 ? 0 : (int)(BarWidth * Math.Clamp((double)done / total, 0, 1));
        return "[" + new string('#', filled) + new string('-', BarWidth - filled) + "]";
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0 KiB", CultureInfo.InvariantCulture),
        < 1024L * 1024 * 1024 => (bytes / 1048576.0).ToString("0.0 MiB", CultureInfo.InvariantCulture),
        _ => (bytes / 1073741824.0).ToString("0.00 GiB", CultureInfo.InvariantCulture),
    };

    private static string Detail(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            foreach (var name in new[] { "detail", "errors", "title" })
            {
                if (document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
        }
        return body.Length > 300 ? body[..300] : body;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
internal sealed partial class CliJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
