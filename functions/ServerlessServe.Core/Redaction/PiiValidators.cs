using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ServerlessServe.Core.Redaction;

/// <summary>Checks that turn a pattern candidate into an entity: checksums, number ranges and digit counts.</summary>
internal static class PiiValidators
{
    /// <summary>The decimal value of any Unicode decimal digit, or -1.</summary>
    public static int DigitValue(char c) => CharUnicodeInfo.GetDecimalDigitValue(c);

    public static bool IsDigit(char c) => DigitValue(c) >= 0;

    public static int CountDigits(ReadOnlySpan<char> text)
    {
        var count = 0;
        foreach (var c in text)
        {
            if (IsDigit(c))
            {
                count++;
            }
        }

        return count;
    }

    public static bool CreditCard(ReadOnlySpan<char> candidate)
    {
        var digits = CountDigits(candidate);
        if (digits is < 13 or > 19)
        {
            return false;
        }

        // Luhn: from the rightmost digit, double every second one.
        var sum = 0;
        var doubleIt = false;
        for (var i = candidate.Length - 1; i >= 0; i--)
        {
            var d = DigitValue(candidate[i]);
            if (d < 0)
            {
                continue;
            }

            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }

    public static bool Iban(ReadOnlySpan<char> candidate)
    {
        Span<char> compact = stackalloc char[40];
        var length = 0;
        foreach (var c in candidate)
        {
            if (c == ' ')
            {
                continue;
            }

            if (length == compact.Length)
            {
                return false;
            }

            compact[length++] = c;
        }

        // ISO 13616: at most 34 characters; the shortest national format (Norway) has 15.
        if (length is < 15 or > 34)
        {
            return false;
        }

        // Move country code and check digits to the end; letters count as two digits (A = 10 ... Z = 35).
        var remainder = 0;
        for (var i = 0; i < length; i++)
        {
            var c = compact[(i + 4) % length];
            int value;
            if (c is >= 'A' and <= 'Z')
            {
                value = c - 'A' + 10;
                remainder = ((remainder * 100) + value) % 97;
                continue;
            }

            value = DigitValue(c);
            if (value < 0)
            {
                return false;
            }

            remainder = ((remainder * 10) + value) % 97;
        }

        return remainder == 1;
    }

    public static bool UsSsn(ReadOnlySpan<char> candidate)
    {
        // ddd-dd-dddd; never issued: area 000, 666 or 900-999, group 00, serial 0000.
        var area = Number(candidate[..3]);
        var group = Number(candidate.Slice(4, 2));
        var serial = Number(candidate.Slice(7, 4));
        return area is > 0 and not 666 and < 900 && group > 0 && serial > 0;
    }

    public static bool IPv6(ReadOnlySpan<char> candidate)
    {
        if (candidate.IndexOfAnyInRange('0', '9') < 0 && candidate.IndexOfAnyInRange('a', 'f') < 0 && candidate.IndexOfAnyInRange('A', 'F') < 0)
        {
            return false; // "::" or "::::" alone
        }

        return IPAddress.TryParse(candidate, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;
    }

    /// <summary>Four dot-separated decimal parts of 1-3 digits (any script's), each at most 255; leading zeros are decimal, not octal.</summary>
    public static bool IPv4(ReadOnlySpan<char> candidate)
    {
        var parts = 0;
        foreach (var range in candidate.Split('.'))
        {
            var part = candidate[range];
            if (++parts > 4 || part.Length is < 1 or > 3 || !AllDigits(part) || Number(part) > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }

    public static bool Phone(ReadOnlySpan<char> candidate)
    {
        var digits = CountDigits(candidate);
        if (candidate[0] == '+')
        {
            // E.164: at most 15 digits including the country code.
            return digits is >= 8 and <= 15;
        }

        // National numbers: 10 or 11 digits written with separators or an (area) code; a bare digit run is an id, not a phone.
        if (digits is < 10 or > 11 || candidate.IndexOfAny(" .-(/") < 0)
        {
            return false;
        }

        return !PiiPatterns.LeadingDate().IsMatch(candidate);
    }

    private static bool AllDigits(ReadOnlySpan<char> part)
    {
        foreach (var c in part)
        {
            if (!IsDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static int Number(ReadOnlySpan<char> digits)
    {
        var value = 0;
        foreach (var c in digits)
        {
            value = (value * 10) + Math.Max(DigitValue(c), 0);
        }

        return value;
    }
}
