using System.Text;
using PollChat.Common.Framing;

namespace PollChat.Tests.Unit;

[TestFixture]
public sealed class FrameHeaderTests
{
    private const int Limit = 65536;

    [TestCase("a         ", TestName = "A_letter_is_an_invalid_character")]
    [TestCase("5a        ", TestName = "A_letter_after_a_digit_is_an_invalid_character")]
    [TestCase("5\0        ", TestName = "An_embedded_NUL_is_an_invalid_character")]
    [TestCase("\0\0\0\0\0\0\0\0\0\0", TestName = "A_header_of_NULs_is_an_invalid_character")]
    [TestCase("+5        ", TestName = "A_plus_sign_is_an_invalid_character")]
    [TestCase("-5        ", TestName = "A_minus_sign_is_an_invalid_character")]
    [TestCase("5\t        ", TestName = "A_tab_is_an_invalid_character")]
    [TestCase("5\r\n       ", TestName = "CR_LF_is_an_invalid_character")]
    [TestCase("5        \n", TestName = "A_trailing_LF_is_an_invalid_character")]
    [TestCase("5.0       ", TestName = "A_decimal_point_is_an_invalid_character")]
    public void TryParse_rejects_a_header_with_a_byte_that_is_neither_digit_nor_space(string header)
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes(header), Limit, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.False);
            Assert.That(error, Is.EqualTo(FrameError.InvalidCharacter));
            Assert.That(length, Is.Zero);
        }
    }

    [Test]
    public void TryParse_rejects_a_non_ascii_byte_as_an_invalid_character()
    {
        byte[] header = Encoding.ASCII.GetBytes("5         ");
        header[1] = 0xFF;

        bool accepted = FrameHeader.TryParse(header, Limit, out _, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.False);
            Assert.That(error, Is.EqualTo(FrameError.InvalidCharacter));
        }
    }

    [TestCase("         5", TestName = "A_right_justified_length_is_not_classic_form")]
    [TestCase(" 5        ", TestName = "A_leading_space_is_not_classic_form")]
    [TestCase("5 5       ", TestName = "Digits_after_spaces_are_not_classic_form")]
    [TestCase("12      34", TestName = "Digits_at_the_end_after_spaces_are_not_classic_form")]
    [TestCase("          ", TestName = "All_spaces_are_not_classic_form")]
    [TestCase("05        ", TestName = "A_leading_zero_is_not_classic_form")]
    [TestCase("00        ", TestName = "Two_zeros_are_not_classic_form")]
    [TestCase("0000000000", TestName = "Ten_zeros_are_not_classic_form")]
    public void TryParse_rejects_a_header_of_digits_and_spaces_that_is_not_in_classic_form(string header)
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes(header), Limit, out _, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.False);
            Assert.That(error, Is.EqualTo(FrameError.NotClassicForm));
        }
    }

    [Test]
    public void TryParse_rejects_a_length_over_the_limit_and_reports_the_declared_length()
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes("101       "), 100, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.False);
            Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
            Assert.That(length, Is.EqualTo(101));
        }
    }

    [Test]
    public void TryParse_rejects_ten_nines_as_over_the_limit_without_overflowing()
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes("9999999999"), int.MaxValue, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.False);
            Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
            Assert.That(length, Is.EqualTo(int.MaxValue), "a declared length beyond int is reported clamped, never negative");
        }
    }

    [Test]
    public void TryParse_rejects_a_length_just_above_int_max_value_without_wrapping_to_negative()
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes("2147483648"), int.MaxValue, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.False);
            Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
            Assert.That(length, Is.EqualTo(int.MaxValue));
        }
    }

    [Test]
    public void TryParse_accepts_int_max_value_when_the_limit_allows_it()
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes("2147483647"), int.MaxValue, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.True);
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(length, Is.EqualTo(int.MaxValue));
        }
    }

    [TestCase("0         ", 0, TestName = "A_zero_length_is_accepted")]
    [TestCase("5         ", 5, TestName = "A_single_digit_is_accepted")]
    [TestCase("10        ", 10, TestName = "A_trailing_zero_digit_is_accepted")]
    [TestCase("65536     ", 65536, TestName = "A_length_exactly_at_the_limit_is_accepted")]
    public void TryParse_accepts_a_classic_header(string header, int expected)
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes(header), Limit, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.True);
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(length, Is.EqualTo(expected));
        }
    }

    [Test]
    public void TryParse_accepts_a_zero_length_even_with_a_zero_limit()
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes("0         "), 0, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.True);
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(length, Is.Zero);
        }
    }

    [Test]
    public void TryParse_rejects_one_byte_over_the_limit()
    {
        bool accepted = FrameHeader.TryParse(Encoding.ASCII.GetBytes("65537     "), Limit, out int length, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.False);
            Assert.That(error, Is.EqualTo(FrameError.LengthOverLimit));
            Assert.That(length, Is.EqualTo(65537));
        }
    }

    [TestCase(0)]
    [TestCase(9)]
    [TestCase(11)]
    public void TryParse_throws_an_argument_exception_for_a_header_that_is_not_ten_bytes(int size)
    {
        Assert.That(
            () => FrameHeader.TryParse(new byte[size], Limit, out _, out _),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("header"));
    }

    [TestCase(0, "0         ")]
    [TestCase(5, "5         ")]
    [TestCase(42, "42        ")]
    [TestCase(65536, "65536     ")]
    [TestCase(1048576, "1048576   ")]
    [TestCase(int.MaxValue, "2147483647")]
    public void Write_produces_the_classic_left_justified_space_padded_form(int length, string expected)
    {
        byte[] header = new byte[FrameHeader.Length];

        FrameHeader.Write(header, length);

        Assert.That(Encoding.ASCII.GetString(header), Is.EqualTo(expected));
    }

    [Test]
    public void Write_touches_only_the_first_ten_bytes_of_a_longer_destination()
    {
        byte[] destination = Enumerable.Repeat((byte)'x', 14).ToArray();

        FrameHeader.Write(destination, 7);

        Assert.That(Encoding.ASCII.GetString(destination), Is.EqualTo("7         xxxx"));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(999)]
    [TestCase(65536)]
    [TestCase(int.MaxValue)]
    public void Write_then_TryParse_round_trips_the_length(int length)
    {
        byte[] header = new byte[FrameHeader.Length];
        FrameHeader.Write(header, length);

        bool accepted = FrameHeader.TryParse(header, int.MaxValue, out int parsed, out FrameError error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.True);
            Assert.That(error, Is.EqualTo(FrameError.None));
            Assert.That(parsed, Is.EqualTo(length));
        }
    }

    [Test]
    public void Write_throws_an_argument_exception_for_a_destination_shorter_than_ten_bytes()
    {
        Assert.That(
            () => FrameHeader.Write(new byte[9], 5),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("destination"));
    }

    [Test]
    public void Write_throws_an_argument_out_of_range_exception_for_a_negative_length()
    {
        Assert.That(() => FrameHeader.Write(new byte[FrameHeader.Length], -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Describe_names_the_declared_length_and_the_limit_for_an_over_limit_frame()
    {
        string sentence = FrameHeader.Describe(FrameError.LengthOverLimit, 70000, 65536);

        Assert.That(sentence, Does.Contain("70000").And.Contains("65536"));
    }
}
