using System.Globalization;
using System.Text;

namespace Grid.Serving.Configuration;

// Protobuf text format (TF Serving's and Triton's configuration files): a tokenizer and the
// typed readers the parsers share. Errors are FormatExceptions that start with the line number.

internal enum TokenKind { Identifier, Number, String, Colon, OpenBrace, CloseBrace, OpenAngle, CloseAngle, OpenBracket, CloseBracket, Comma, Semicolon }

internal readonly record struct Token(TokenKind Kind, string Text, int Line);

internal sealed class TextFormatReader
{
    private readonly List<Token> _tokens = [];
    private int _position;
    private int _lastLine = 1;

    public TextFormatReader(string text)
    {
        var line = 1;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                i++;
            }
            else if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '#')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
                _tokens.Add(new Token(TokenKind.Identifier, text[start..i], line));
            }
            else if (char.IsDigit(c) || c is '-' or '+' or '.')
            {
                var start = i++;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '.' or '-' or '+'))
                {
                    i++;
                }
                _tokens.Add(new Token(TokenKind.Number, text[start..i], line));
            }
            else if (c is '"' or '\'')
            {
                var builder = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != c)
                {
                    if (text[i] == '\n')
                    {
                        throw new FormatException($"line {line}: unterminated string");
                    }
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }
                    builder.Append(text[i++]);
                }
                if (i >= text.Length)
                {
                    throw new FormatException($"line {line}: unterminated string");
                }
                i++;
                _tokens.Add(new Token(TokenKind.String, builder.ToString(), line));
            }
            else
            {
                var kind = c switch
                {
                    ':' => TokenKind.Colon,
                    '{' => TokenKind.OpenBrace,
                    '}' => TokenKind.CloseBrace,
                    '<' => TokenKind.OpenAngle,
                    '>' => TokenKind.CloseAngle,
                    '[' => TokenKind.OpenBracket,
                    ']' => TokenKind.CloseBracket,
                    ',' => TokenKind.Comma,
                    ';' => TokenKind.Semicolon,
                    _ => throw new FormatException($"line {line}: unexpected character '{c}'"),
                };
                _tokens.Add(new Token(kind, c.ToString(), line));
                i++;
            }
        }
        _lastLine = line;
    }

    public Token? Peek() => _position < _tokens.Count ? _tokens[_position] : null;

    public Token Next()
    {
        var token = Peek() ?? throw Error("unexpected end of input");
        _position++;
        return token;
    }

    public bool TryConsume(TokenKind kind)
    {
        if (Peek() is { } t && t.Kind == kind)
        {
            _position++;
            return true;
        }
        return false;
    }

    public Token Expect(TokenKind kind, string what)
    {
        var token = Peek() ?? throw Error($"expected {what}, found end of input");
        if (token.Kind != kind)
        {
            throw Error($"expected {what}, found '{token.Text}'");
        }
        _position++;
        return token;
    }

    /// <summary>An error about the value just read, reported at that value's line.</summary>
    public FormatException ErrorAtPrevious(string message)
        => _position > 0 ? new FormatException($"line {_tokens[_position - 1].Line}: {message}") : Error(message);

    public FormatException Error(string message)
    {
        var line = Peek()?.Line ?? (_position > 0 ? _tokens[_position - 1].Line : _lastLine);
        return new FormatException($"line {line}: {message}");
    }

    /// <summary>A wrapper message: <c>name [:] { value: X }</c>; an empty wrapper keeps the default.</summary>
    public T ReadWrapper<T>(string field, Func<TextFormatReader, T> readValue)
    {
        TryConsume(TokenKind.Colon);
        TokenKind close;
        if (TryConsume(TokenKind.OpenBrace))
        {
            close = TokenKind.CloseBrace;
        }
        else if (TryConsume(TokenKind.OpenAngle))
        {
            close = TokenKind.CloseAngle;
        }
        else
        {
            throw Error($"{field} is a wrapper message: write {field} {{ value: ... }}");
        }
        var name = Expect(TokenKind.Identifier, $"'value' inside {field}").Text;
        if (name != "value")
        {
            throw Error($"Message type \"google.protobuf.Wrapper\" in {field} has no field named \"{name}\".");
        }
        Expect(TokenKind.Colon, $"':' after value in {field}");
        var value = readValue(this);
        TryConsume(TokenKind.Comma);
        TryConsume(TokenKind.Semicolon);
        Expect(close, $"'{(close == TokenKind.CloseBrace ? "}" : ">")}' closing {field}");
        return value;
    }

    public long ReadInt64(string field)
    {
        var token = Next();
        if (token.Kind != TokenKind.Number || !long.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            _position--;
            throw Error($"{field}: expected an integer, found '{token.Text}'");
        }
        return value;
    }

    public int ReadInt32(string field)
    {
        var value = ReadInt64(field);
        if (value is < int.MinValue or > int.MaxValue)
        {
            _position--;
            throw Error($"{field}: {value} is out of range");
        }
        return (int)value;
    }

    public string ReadString(string field)
    {
        var token = Next();
        if (token.Kind != TokenKind.String)
        {
            _position--;
            throw Error($"{field}: expected a quoted string, found '{token.Text}'");
        }
        return token.Text;
    }

    /// <summary>A bool; <paramref name="allowColonForm"/> for plain bool fields (<c>name: true</c>).</summary>
    public bool ReadBool(string field, bool allowColonForm = false)
    {
        if (allowColonForm)
        {
            Expect(TokenKind.Colon, $"':' after {field}");
        }
        var token = Next();
        return token.Text switch
        {
            "true" or "True" or "t" or "1" => true,
            "false" or "False" or "f" or "0" => false,
            _ => throw new FormatException($"line {token.Line}: {field}: expected true or false, found '{token.Text}'"),
        };
    }
}
