namespace Shoal.Hosting;

/// <summary>How option properties are spelled as configuration keys.</summary>
public static class ConfigurationNames
{
    /// <summary>
    /// The camelCase key of a property: the leading run of capitals and digits is lowercased, except
    /// a capital that starts the next word (<c>P2P</c> → <c>p2p</c>, <c>ClientTls</c> → <c>clientTls</c>,
    /// <c>IOTimeout</c> → <c>ioTimeout</c>).
    /// </summary>
    public static string CamelCase(string name)
    {
        if (name.Length == 0 || !char.IsUpper(name[0]))
        {
            return name;
        }
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (i > 0 && !char.IsUpper(chars[i]) && !char.IsDigit(chars[i]))
            {
                break;
            }
            var nextIsLower = i + 1 < chars.Length && char.IsLower(chars[i + 1]);
            if (i > 0 && char.IsUpper(chars[i]) && nextIsLower)
            {
                break;
            }
            chars[i] = char.ToLowerInvariant(chars[i]);
        }
        return new string(chars);
    }
}
