using System.Text;
using PollChat.Common.Framing;

namespace PollChat.Tests.Unit;

[TestFixture]
public sealed class FrameTests
{
    [Test]
    public void Encode_produces_the_classic_header_followed_by_the_utf8_payload()
    {
        byte[] frame = Frame.Encode("hello");

        Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes("5         hello")));
    }

    [Test]
    public void Encode_counts_the_payload_length_in_utf8_bytes_not_characters()
    {
        byte[] frame = Frame.Encode("héllo");

        Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes("6         héllo")));
    }

    [Test]
    public void Encode_of_an_empty_string_is_a_bare_zero_header()
    {
        byte[] frame = Frame.Encode("");

        Assert.That(frame, Is.EqualTo(Encoding.ASCII.GetBytes("0         ")));
    }

    [Test]
    public void EncodePair_produces_the_sender_frame_then_the_message_frame()
    {
        byte[] pair = Frame.EncodePair("bob", "héllo");

        Assert.That(pair, Is.EqualTo(Encoding.UTF8.GetBytes("3         bob" + "6         héllo")));
    }

    [Test]
    public void EncodePair_encodes_multibyte_sender_names_by_byte_length()
    {
        byte[] pair = Frame.EncodePair("名前", "");

        Assert.That(pair, Is.EqualTo(Encoding.UTF8.GetBytes("6         名前" + "0         ")));
    }

    [Test]
    public void EncodedLength_is_the_header_length_plus_the_payload_length()
    {
        Assert.That(Frame.EncodedLength(5), Is.EqualTo(15));
    }

    [Test]
    public void Write_writes_header_and_payload_and_returns_the_byte_count()
    {
        byte[] destination = Enumerable.Repeat((byte)'x', 20).ToArray();

        int written = Frame.Write(destination, "abc"u8);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(written, Is.EqualTo(13));
            Assert.That(Encoding.ASCII.GetString(destination), Is.EqualTo("3         abcxxxxxxx"));
        }
    }

    [Test]
    public void Write_fits_a_destination_of_exactly_the_frame_length()
    {
        byte[] destination = new byte[13];

        int written = Frame.Write(destination, "abc"u8);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(written, Is.EqualTo(13));
            Assert.That(Encoding.ASCII.GetString(destination), Is.EqualTo("3         abc"));
        }
    }

    [Test]
    public void Write_throws_an_argument_exception_for_a_destination_one_byte_short()
    {
        Assert.That(
            () => Frame.Write(new byte[12], "abc"u8),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("destination"));
    }

    [Test]
    public void Write_throws_an_argument_exception_for_a_destination_too_short_for_the_header()
    {
        Assert.That(() => Frame.Write(new byte[5], ReadOnlySpan<byte>.Empty), Throws.ArgumentException);
    }

    [Test]
    public void Write_leaves_a_too_short_destination_untouched()
    {
        byte[] destination = Enumerable.Repeat((byte)'x', 12).ToArray();

        Assert.That(() => Frame.Write(destination, "abc"u8), Throws.ArgumentException);
        Assert.That(destination, Is.All.EqualTo((byte)'x'));
    }
}
