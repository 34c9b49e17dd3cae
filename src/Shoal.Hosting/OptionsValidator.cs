using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Reflection;

namespace Shoal.Hosting;

/// <summary>
/// Validates an options object graph with data annotations and reports every problem under its
/// configuration key (<c>origin:listen:port</c>), so a user knows which line of the file to fix.
/// </summary>
public static class OptionsValidator
{
    /// <summary>Throws <see cref="ConfigurationException"/> listing every invalid key under <paramref name="section"/>.</summary>
    public static void ValidateOrThrow(object options, string section)
    {
        var errors = new List<string>();
        Validate(options, section, errors, depth: 0);
        if (errors.Count > 0)
        {
            throw new ConfigurationException("invalid configuration:\n  " + string.Join("\n  ", errors));
        }
    }

    private static void Validate(object options, string path, List<string> errors, int depth)
    {
        if (depth > 8)
        {
            return;
        }
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        foreach (var result in results)
        {
            var members = result.MemberNames.Any() ? result.MemberNames : [""];
            foreach (var member in members)
            {
                errors.Add($"{Key(path, member)}: {result.ErrorMessage}");
            }
        }
        if (options is IValidatableObject)
        {
            // Already included by TryValidateObject.
        }
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.PropertyType.IsPrimitive || property.PropertyType == typeof(string) || property.PropertyType.IsEnum)
            {
                continue;
            }
            var value = property.GetValue(options);
            switch (value)
            {
                case null:
                    break;
                case IEnumerable list when value is not string:
                    var i = 0;
                    foreach (var item in list)
                    {
                        if (item is not null && IsOptionsType(item.GetType()))
                        {
                            Validate(item, Key(Key(path, property.Name), i.ToString(System.Globalization.CultureInfo.InvariantCulture)), errors, depth + 1);
                        }
                        i++;
                    }
                    break;
                default:
                    if (IsOptionsType(value.GetType()))
                    {
                        Validate(value, Key(path, property.Name), errors, depth + 1);
                    }
                    break;
            }
        }
    }

    private static bool IsOptionsType(Type type) => type.IsClass && type.Namespace?.StartsWith("Shoal", StringComparison.Ordinal) == true;

    private static string Key(string path, string member)
    {
        if (member.Length == 0)
        {
            return path;
        }
        var camel = ConfigurationNames.CamelCase(member);
        return path.Length == 0 ? camel : path + ":" + camel;
    }
}
