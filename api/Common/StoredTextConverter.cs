using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orleans.Trade.Api.Common;

/// <summary>
/// Reads every JSON text of a request body (member values and dictionary keys) and refuses one that holds a control
/// character other than tab, line feed and carriage return: U+0000-U+001F, U+007F and the C1 controls U+0080-U+009F. Such
/// characters are never part of a name, an address, a reason or a note; stored, they break the CSV exports, logs and pages that
/// show these texts, and PostgreSQL refuses U+0000 in text columns outright. A text escaping half of a surrogate pair, which
/// no encoding can store, is refused the same way. Writing is the framework's own.
/// </summary>
public sealed class StoredTextConverter : JsonConverter<string>
{
    private static readonly SearchValues<char> Refused = SearchValues.Create(RefusedCharacters());

    public override bool HandleNull => false;

    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            // Without a message the serializer says the value could not be converted to a string, naming its path.
            throw new JsonException();
        }
        return Checked(ref reader);
    }

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Checked(ref reader);

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

    private static string Checked(ref Utf8JsonReader reader)
    {
        string text;
        try
        {
            text = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // The reader's only refusal of a string token: an escaped surrogate without its other half.
            throw new UnstorableTextException("holds half of a surrogate pair (a \\uD800-\\uDFFF escape without its other half); texts must be valid Unicode.");
        }
        var index = text.AsSpan().IndexOfAny(Refused);
        if (index >= 0)
        {
            throw new UnstorableTextException(
                $"holds the control character U+{(int)text[index]:X4} at position {index}; texts may hold tab, line feed and carriage return but no other control character.");
        }
        return text;
    }

    private static string RefusedCharacters()
    {
        var refused = new List<char>();
        for (var c = '\u0000'; c <= '\u001F'; c++)
        {
            if (c is not ('\t' or '\n' or '\r'))
            {
                refused.Add(c);
            }
        }
        for (var c = '\u007F'; c <= '\u009F'; c++)
        {
            refused.Add(c);
        }
        return new string(refused.ToArray());
    }
}

/// <summary>A request's text that <see cref="StoredTextConverter"/> refuses; its message completes "The text at '{path}' …".</summary>
public sealed class UnstorableTextException(string message) : JsonException(message);
