using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Xml.Linq;

using Shoal.Hosting;

namespace Shoal.Cli;

/// <summary>
/// Lists the configuration keys of an options type — key, type, default, and the summary of its
/// XML documentation — so each subcommand's help is generated from the options it really binds
/// and cannot drift from them.
/// </summary>
internal static class ConfigurationKeys
{
    private const int MaxDepth = 6;

    /// <summary>One configuration key.</summary>
    public sealed record Key(string Path, string Type, string Default, bool Required, string? OptionalSection, string Description);

    /// <summary>Every leaf key under <paramref name="section"/> for <paramref name="optionsType"/>.</summary>
    public static IReadOnlyList<Key> For(Type optionsType, string section)
    {
        var keys = new List<Key>();
        var docs = new DocumentationCache();
        Walk(optionsType, CreateOrNull(optionsType), section, optionalSection: null, keys, docs, depth: 0);
        return keys;
    }

    /// <summary>Writes <paramref name="keys"/> as an indented list, descriptions wrapped at <paramref name="width"/>.</summary>
    public static void Write(TextWriter writer, IReadOnlyList<Key> keys, int width = 100)
    {
        foreach (var key in keys)
        {
            var facts = (key.Required, key.Default) switch
            {
                (true, "none" or "empty") when key.OptionalSection is { } section => $"{key.Type}, required when {section} is set",
                (true, "none" or "empty") => $"{key.Type}, required",
                _ => $"{key.Type}, default {key.Default}",
            };
            writer.WriteLine($"  {key.Path}  ({facts})");
            foreach (var line in Wrap(key.Description, width - 6))
            {
                writer.WriteLine("      " + line);
            }
        }
    }

    private static void Walk(Type type, object? instance, string path, string? optionalSection, List<Key> keys, DocumentationCache docs, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null)
            {
                continue;
            }
            var key = path + ":" + CamelCase(property.Name);
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var value = instance is null ? null : property.GetValue(instance);
            var required = property.GetCustomAttribute<RequiredAttribute>() is not null;
            var description = docs.Summary(property);
            if (IsScalar(propertyType))
            {
                if (property.SetMethod?.IsPublic != true)
                {
                    continue;
                }
                keys.Add(new Key(key, TypeName(propertyType), Display(value), required, optionalSection, description));
            }
            else if (ElementType(propertyType) is { } element)
            {
                if (IsScalar(element))
                {
                    keys.Add(new Key(key, $"list of {TypeName(element)}", Display(value), required, optionalSection, description));
                }
                else if (IsOptionsType(element))
                {
                    keys.Add(new Key(key, "list", Display(value), required, optionalSection, description));
                    Walk(element, CreateOrNull(element), key + ":<n>", optionalSection ?? key, keys, docs, depth + 1);
                }
            }
            else if (IsMap(propertyType))
            {
                keys.Add(new Key(key + ":<name>", "map", Display(value), required, optionalSection, description));
            }
            else if (IsOptionsType(propertyType))
            {
                Walk(propertyType, value ?? CreateOrNull(propertyType), key, value is null && instance is not null ? optionalSection ?? key : optionalSection, keys, docs, depth + 1);
            }
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri) || type == typeof(DateTimeOffset);

    private static bool IsOptionsType(Type type) => type.IsClass && type.Namespace?.StartsWith("Shoal", StringComparison.Ordinal) == true;

    private static bool IsMap(Type type) =>
        type.IsGenericType && type.GetGenericArguments().Length == 2 && typeof(IDictionary).IsAssignableFrom(type);

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string) || IsMap(type))
        {
            return null;
        }
        if (type.IsArray)
        {
            return type.GetElementType();
        }
        return type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static object? CreateOrNull(Type type)
    {
        try
        {
            return type.GetConstructor(Type.EmptyTypes) is null ? null : Activator.CreateInstance(type);
        }
        catch (TargetInvocationException)
        {
            return null;
        }
    }

    private static string TypeName(Type type) => type switch
    {
        _ when type == typeof(string) => "string",
        _ when type == typeof(bool) => "bool",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "integer",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "number",
        _ when type == typeof(TimeSpan) => "duration hh:mm:ss",
        _ when type == typeof(Uri) => "URL",
        _ when type.IsEnum => string.Join('|', Enum.GetNames(type).Select(CamelCase)),
        _ => type.Name,
    };

    private static string Display(object? value) => value switch
    {
        null => "none",
        string s when s.Length == 0 => "none",
        string s => s,
        bool b => b ? "true" : "false",
        Enum e => CamelCase(e.ToString()),
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IDictionary { Count: 0 } => "empty",
        IEnumerable list => list.Cast<object?>().Any() ? "[" + string.Join(", ", list.Cast<object?>().Select(Display)) + "]" : "empty",
        _ => value.ToString() ?? "none",
    };

    private static string CamelCase(string name) => ConfigurationNames.CamelCase(name);

    private static IEnumerable<string> Wrap(string text, int width)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            yield break;
        }
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0)
            {
                line.Append(' ');
            }
            line.Append(word);
        }
        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }

    /// <summary>Reads the XML documentation files that ship beside the component assemblies.</summary>
    private sealed class DocumentationCache
    {
        private readonly Dictionary<Assembly, Dictionary<string, XElement>?> _files = [];

        public string Summary(PropertyInfo property)
        {
            var type = property.DeclaringType!;
            var members = Load(type.Assembly);
            var id = $"P:{type.FullName!.Replace('+', '.')}.{property.Name}";
            return members is not null && members.TryGetValue(id, out var member) && member.Element("summary") is { } summary
                ? Flatten(summary)
                : string.Empty;
        }

        private Dictionary<string, XElement>? Load(Assembly assembly)
        {
            if (_files.TryGetValue(assembly, out var cached))
            {
                return cached;
            }
            Dictionary<string, XElement>? members = null;
            var path = Path.ChangeExtension(assembly.Location, ".xml");
            if (!string.IsNullOrEmpty(assembly.Location) && File.Exists(path))
            {
                try
                {
                    members = XDocument.Load(path).Descendants("member")
                        .Where(m => m.Attribute("name") is not null)
                        .GroupBy(m => m.Attribute("name")!.Value, StringComparer.Ordinal)
                        .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
                }
                catch (System.Xml.XmlException)
                {
                    // Help without descriptions is better than no help.
                }
            }
            _files[assembly] = members;
            return members;
        }

        private static string Flatten(XElement element)
        {
            var text = new StringBuilder();
            foreach (var node in element.Nodes())
            {
                text.Append(node switch
                {
                    XText t => t.Value,
                    XElement { Name.LocalName: "see" or "seealso" } e when e.Attribute("cref") is { } cref => cref.Value[(cref.Value.LastIndexOf('.') + 1)..],
                    XElement { Name.LocalName: "see" } e when e.Attribute("langword") is { } word => word.Value,
                    XElement { Name.LocalName: "paramref" or "typeparamref" } e => e.Attribute("name")?.Value ?? string.Empty,
                    XElement e => Flatten(e),
                    _ => string.Empty,
                });
            }
            return string.Join(' ', text.ToString().Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
