using System.Text;
using PollChat.Common.Protocol;

namespace PollChat.Tests.Unit;

[TestFixture]
public sealed class UsernameTests
{
    private const int Max = ProtocolLimits.DefaultMaxUsernameBytes;

    [TestCase("alice", TestName = "An_ascii_name_is_valid")]
    [TestCase("a", TestName = "A_one_letter_name_is_valid")]
    [TestCase("Zoë", TestName = "A_name_with_an_accent_is_valid")]
    [TestCase("名前", TestName = "A_cjk_name_is_valid")]
    [TestCase("bob_42-x.y", TestName = "A_name_with_punctuation_is_valid")]
    [TestCase("a*b", TestName = "A_name_with_a_star_after_the_first_character_is_valid")]
    [TestCase("12345678901234567890123456789012", TestName = "A_name_of_exactly_32_bytes_is_valid")]
    [TestCase("名前名前名前名前名前x", TestName = "A_multibyte_name_of_exactly_31_bytes_is_valid")]
    public void Validate_accepts_a_good_name(string name)
    {
        Assert.That(Username.Validate(name, Max), Is.Null);
    }

    [Test]
    public void The_32_byte_case_really_is_32_bytes()
    {
        Assert.That(Encoding.UTF8.GetByteCount("12345678901234567890123456789012"), Is.EqualTo(Max));
    }

    [TestCase("", TestName = "An_empty_name_is_rejected")]
    [TestCase("123456789012345678901234567890123", TestName = "A_name_of_33_bytes_is_rejected")]
    [TestCase("名前名前名前名前名前名", TestName = "A_multibyte_name_of_33_bytes_is_rejected")]
    [TestCase("bob smith", TestName = "A_name_with_a_space_is_rejected")]
    [TestCase(" bob", TestName = "A_name_with_a_leading_space_is_rejected")]
    [TestCase("bob\t", TestName = "A_name_with_a_tab_is_rejected")]
    [TestCase("bob\n", TestName = "A_name_with_a_newline_is_rejected")]
    [TestCase("bob\r", TestName = "A_name_with_a_carriage_return_is_rejected")]
    [TestCase("bo\u0007b", TestName = "A_name_with_a_bell_control_character_is_rejected")]
    [TestCase("bo\u001bb", TestName = "A_name_with_an_escape_character_is_rejected")]
    [TestCase("bo\0b", TestName = "A_name_with_a_NUL_is_rejected")]
    [TestCase("bo\u009bb", TestName = "A_name_with_a_C1_control_character_is_rejected")]
    [TestCase("bo\u200bb", TestName = "A_name_with_a_zero_width_space_is_rejected")]
    [TestCase("bob\u202e", TestName = "A_name_with_a_right_to_left_override_is_rejected")]
    [TestCase("\ufeffbob", TestName = "A_name_with_a_byte_order_mark_is_rejected")]
    [TestCase("bo\u00a0b", TestName = "A_name_with_a_no_break_space_is_rejected")]
    [TestCase("bo\u3000b", TestName = "A_name_with_an_ideographic_space_is_rejected")]
    [TestCase("bob\ufe0f", TestName = "A_name_with_a_variation_selector_is_rejected")]
    [TestCase("bo\u034fb", TestName = "A_name_with_a_combining_grapheme_joiner_is_rejected")]
    [TestCase("\u3164", TestName = "A_name_of_a_hangul_filler_is_rejected")]
    [TestCase("bob\u2800", TestName = "A_name_with_a_blank_braille_cell_is_rejected")]
    [TestCase("*bob", TestName = "A_name_starting_with_the_reserved_star_is_rejected")]
    [TestCase("*", TestName = "A_lone_star_is_rejected")]
    [TestCase(ServerSender.Name, TestName = "The_server_sender_name_itself_is_rejected")]
    public void Validate_rejects_a_bad_name_with_a_reason(string name)
    {
        string? reason = Username.Validate(name, Max);

        Assert.That(reason, Is.Not.Null.And.Not.Empty);
    }

    [TestCase(new byte[] { 0xC3, 0x28 }, TestName = "A_truncated_two_byte_sequence_is_rejected")]
    [TestCase(new byte[] { 0xFF }, TestName = "A_0xFF_byte_is_rejected")]
    [TestCase(new byte[] { (byte)'b', 0xC3 }, TestName = "A_name_ending_in_half_a_character_is_rejected")]
    [TestCase(new byte[] { 0xED, 0xA0, 0x80 }, TestName = "An_encoded_surrogate_is_rejected")]
    [TestCase(new byte[] { 0xC0, 0xAF }, TestName = "An_overlong_encoding_is_rejected")]
    public void Validate_rejects_bytes_that_are_not_valid_utf8(byte[] name)
    {
        string? reason = Username.Validate(name, Max);

        Assert.That(reason, Does.Contain("UTF-8"));
    }

    [Test]
    public void Validate_of_bytes_accepts_a_valid_utf8_name()
    {
        Assert.That(Username.Validate("Zoë"u8, Max), Is.Null);
    }

    [Test]
    public void Validate_names_the_limit_when_a_name_is_too_long()
    {
        string? reason = Username.Validate("abcdef", 5);

        Assert.That(reason, Does.Contain("5"));
    }

    [Test]
    public void Validate_honours_a_configured_limit_smaller_than_the_default()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Username.Validate("abcde", 5), Is.Null);
            Assert.That(Username.Validate("abcdef", 5), Is.Not.Null);
        }
    }
}
