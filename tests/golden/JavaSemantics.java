import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;

/**
 * What Java itself (and Flink's own MemorySize / CPUResource classes) make of each input line.
 *
 * <p>Input, one case per line: {@code <op> <argument>}, the argument as 4-hex-digit UTF-16 code units
 * (so that whitespace, control characters and lone surrogates pass unchanged). Output, one JSON object
 * per line in the same order: {@code {"ok":true,"value":...}} or
 * {@code {"ok":false,"class":"...","message":"..."}} with the exception Java threw.
 *
 * <p>Ops and the calls they make (the same calls Flink makes):
 * <ul>
 *   <li>parseFloat: Float.parseFloat(s), value = raw bits as 8 hex digits
 *   <li>parseDouble: Double.parseDouble(s), value = raw bits as 16 hex digits
 *   <li>parseInt: Integer.parseInt(s)
 *   <li>doubleToString: Double.toString(Double.longBitsToDouble(hex bits))
 *   <li>floatToString: Float.toString(Float.intBitsToFloat(hex bits))
 *   <li>humanReadable: String.format(Locale.ROOT, "%.3f%s (%d bytes)", ...) as MemorySize does it,
 *       checked against Flink's MemorySize.toHumanReadableString()
 *   <li>memoryToString: Flink's MemorySize.toString()
 *   <li>parseMemorySize: Flink's MemorySize.parse(s).getBytes()
 *   <li>multiply ("bytes hexbits"): Flink's MemorySize.multiply(double), checked against
 *       BigDecimal.valueOf(bytes).multiply(BigDecimal.valueOf(m)).longValue()
 *   <li>hashMapOrder (keys separated by U+001F): iteration order of a HashMap after put(key) in order
 *   <li>hashSetOrder (items separated by U+001F): iteration order of new HashSet&lt;&gt;(Arrays.asList(items))
 *   <li>cpuCores: String.valueOf(new CPUResource(Double.parseDouble(s)).getValue().doubleValue())
 * </ul>
 *
 * <p>Run by generate.py with Flink's flink-dist jar on the class path (for MemorySize/CPUResource).
 */
public final class JavaSemantics {

    private static final String[] HUMAN_UNITS = {"bytes", "kb", "mb", "gb", "tb"};
    private static final long[] HUMAN_MULTIPLIERS = {1L, 1L << 10, 1L << 20, 1L << 30, 1L << 40};

    private final Class<?> memorySize;
    private final Constructor<?> memorySizeOf;
    private final Method parse;
    private final Method getBytes;
    private final Method multiply;
    private final Method toHumanReadableString;
    private final Constructor<?> cpuResourceOf;
    private final Method getValue;

    private JavaSemantics() throws ReflectiveOperationException {
        memorySize = Class.forName("org.apache.flink.configuration.MemorySize");
        memorySizeOf = memorySize.getConstructor(long.class);
        parse = memorySize.getMethod("parse", String.class);
        getBytes = memorySize.getMethod("getBytes");
        multiply = memorySize.getMethod("multiply", double.class);
        toHumanReadableString = memorySize.getMethod("toHumanReadableString");
        Class<?> cpuResource = Class.forName("org.apache.flink.api.common.resources.CPUResource");
        cpuResourceOf = cpuResource.getConstructor(double.class);
        getValue = cpuResource.getMethod("getValue");
    }

    public static void main(String[] args) throws Exception {
        JavaSemantics semantics = new JavaSemantics();
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        PrintStream out =
                new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.US_ASCII);
        String line;
        while ((line = in.readLine()) != null) {
            int space = line.indexOf(' ');
            String op = space < 0 ? line : line.substring(0, space);
            String argument = space < 0 ? "" : decode(line.substring(space + 1));
            String result;
            try {
                result = "{\"ok\":true,\"value\":" + semantics.run(op, argument) + "}";
            } catch (RuntimeException error) {
                result = failure(error);
            } catch (InvocationTargetException wrapped) {
                if (!(wrapped.getCause() instanceof RuntimeException)) {
                    throw wrapped;
                }
                result = failure(wrapped.getCause());
            }
            out.println(result);
        }
        out.flush();
    }

    private String run(String op, String argument) throws ReflectiveOperationException {
        switch (op) {
            case "parseFloat":
                return json(String.format("%08x", Float.floatToRawIntBits(Float.parseFloat(argument))));
            case "parseDouble":
                return json(String.format("%016x", Double.doubleToRawLongBits(Double.parseDouble(argument))));
            case "parseInt":
                return Integer.toString(Integer.parseInt(argument));
            case "doubleToString":
                return json(Double.toString(Double.longBitsToDouble(Long.parseUnsignedLong(argument, 16))));
            case "floatToString":
                return json(Float.toString(Float.intBitsToFloat(Integer.parseUnsignedInt(argument, 16))));
            case "humanReadable":
                return json(humanReadable(Long.parseLong(argument)));
            case "memoryToString":
                return json(memorySizeOf.newInstance(Long.parseLong(argument)).toString());
            case "parseMemorySize":
                return Long.toString((Long) getBytes.invoke(parse.invoke(null, argument)));
            case "multiply":
                return Long.toString(multiply(argument));
            case "hashMapOrder":
                return hashMapOrder(argument);
            case "hashSetOrder":
                return jsonList(new HashSet<>(Arrays.asList(argument.split("\u001f", -1))));
            case "cpuCores":
                BigDecimal value = (BigDecimal) getValue.invoke(cpuResourceOf.newInstance(Double.parseDouble(argument)));
                return json(String.valueOf(value.doubleValue()));
            default:
                throw new AssertionError("unknown op " + op);
        }
    }

    /** MemorySize.toHumanReadableString with the JDK calls it makes, checked against Flink's own. */
    private String humanReadable(long bytes) throws ReflectiveOperationException {
        int highest = 0;
        for (int index = 0; index < HUMAN_MULTIPLIERS.length; index++) {
            if (bytes > HUMAN_MULTIPLIERS[index]) {
                highest = index;
            }
        }
        String jdk;
        if (highest == 0) {
            jdk = String.format("%d bytes", bytes);
        } else {
            double approximate = 1.0 * bytes / HUMAN_MULTIPLIERS[highest];
            jdk = String.format(Locale.ROOT, "%.3f%s (%d bytes)", approximate, HUMAN_UNITS[highest], bytes);
        }
        String flink = (String) toHumanReadableString.invoke(memorySizeOf.newInstance(bytes));
        if (!jdk.equals(flink)) {
            throw new AssertionError("JDK formula " + jdk + " differs from Flink " + flink);
        }
        return flink;
    }

    /** Flink's MemorySize.multiply, checked against the BigDecimal expression it is made of. */
    private long multiply(String argument) throws ReflectiveOperationException {
        String[] parts = argument.split(" ");
        long bytes = Long.parseLong(parts[0]);
        double multiplier = Double.longBitsToDouble(Long.parseUnsignedLong(parts[1], 16));
        long flink = (Long) getBytes.invoke(multiply.invoke(memorySizeOf.newInstance(bytes), multiplier));
        long jdk = BigDecimal.valueOf(bytes).multiply(BigDecimal.valueOf(multiplier)).longValue();
        if (flink != jdk) {
            throw new AssertionError("BigDecimal product " + jdk + " differs from Flink " + flink);
        }
        return flink;
    }

    private static String hashMapOrder(String argument) {
        Map<String, String> map = new HashMap<>();
        for (String key : argument.split("\u001f", -1)) {
            map.put(key, "");
        }
        return jsonList(map.keySet());
    }

    private static String jsonList(Iterable<String> items) {
        StringBuilder out = new StringBuilder("[");
        for (String item : items) {
            out.append(out.length() > 1 ? "," : "").append(json(item));
        }
        return out.append(']').toString();
    }

    private static String failure(Throwable error) {
        return "{\"ok\":false,\"class\":" + json(error.getClass().getName()) + ",\"message\":"
                + json(error.getMessage()) + "}";
    }

    private static String decode(String hex) {
        StringBuilder text = new StringBuilder(hex.length() / 4);
        for (int index = 0; index < hex.length(); index += 4) {
            text.append((char) Integer.parseInt(hex.substring(index, index + 4), 16));
        }
        return text.toString();
    }

    /** A JSON string; everything outside printable ASCII as a UTF-16 \\u escape. */
    private static String json(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int index = 0; index < text.length(); index++) {
            char c = text.charAt(index);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
