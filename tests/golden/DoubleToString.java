import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Prints JDK 17's Double.toString and Float.toString of raw bit patterns, for
 * tests/golden/generate_double_to_string.py.
 *
 * <ul>
 *   <li>No arguments: each input line is "d" and 16 hex digits (a double's bits) or "f" and 8 hex
 *       digits (a float's bits); each output line is Java's string, in input order.
 *   <li>{@code range d|f FIRST COUNT}: the strings of COUNT consecutive bit patterns from FIRST (hex).
 *   <li>{@code random d|f COUNT SEED}: COUNT uniformly random bit patterns from a SplittableRandom,
 *       each printed as "bits string" (the Python side does not reproduce Java's generator).
 * </ul>
 */
public final class DoubleToString {
    private DoubleToString() {}

    public static void main(String[] args) throws IOException {
        BufferedWriter out = new BufferedWriter(
                new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 1 << 16);
        if (args.length == 0) {
            BufferedReader in = new BufferedReader(
                    new InputStreamReader(System.in, StandardCharsets.US_ASCII), 1 << 16);
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                long bits = Long.parseUnsignedLong(line.substring(1), 16);
                out.write(line.charAt(0) == 'd' ? doubleString(bits) : floatString(bits));
                out.write('\n');
            }
        } else if (args[0].equals("range")) {
            boolean doubles = args[1].equals("d");
            long first = Long.parseUnsignedLong(args[2], 16);
            long count = Long.parseLong(args[3]);
            for (long i = 0; i < count; i++) {
                out.write(doubles ? doubleString(first + i) : floatString(first + i));
                out.write('\n');
            }
        } else if (args[0].equals("random")) {
            boolean doubles = args[1].equals("d");
            long count = Long.parseLong(args[2]);
            SplittableRandom random = new SplittableRandom(Long.parseLong(args[3]));
            for (long i = 0; i < count; i++) {
                long bits = doubles ? random.nextLong() : random.nextInt() & 0xffffffffL;
                out.write(Long.toHexString(bits));
                out.write(' ');
                out.write(doubles ? doubleString(bits) : floatString(bits));
                out.write('\n');
            }
        } else {
            throw new IllegalArgumentException("usage: DoubleToString [range|random d|f ...]");
        }
        out.flush();
    }

    private static String doubleString(long bits) {
        return Double.toString(Double.longBitsToDouble(bits));
    }

    private static String floatString(long bits) {
        return Float.toString(Float.intBitsToFloat((int) bits));
    }
}
