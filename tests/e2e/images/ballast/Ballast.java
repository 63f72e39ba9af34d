/*
 * A Java agent that makes a JVM hold native memory no JVM limit accounts for, so that the e2e tests can
 * get a TaskManager OOM-killed by the kernel under its container's memory limit while Flink's heap,
 * direct and metaspace limits are all respected.
 *
 *     -javaagent:/opt/flink-e2e/ballast.jar=600m     (or a plain number of bytes, or 512k, 2g)
 *
 * At premain it allocates that many bytes with sun.misc.Unsafe.allocateMemory (malloc: outside the
 * heap, outside -XX:MaxDirectMemorySize, outside metaspace), writes one byte to every page so that all
 * of it is resident (and charged to the memory cgroup), keeps it for the life of the JVM, prints one
 * line to stderr and returns. Built into the Flink images by tests/e2e/node/images.py (javac 17).
 */
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Field;
import java.util.Locale;

public final class Ballast {
    private static final long PAGE = 4096;
    /** The address of the ballast: kept so that nothing could ever free it. */
    private static volatile long address;

    private Ballast() {}

    public static void premain(String arguments, Instrumentation instrumentation) throws Exception {
        hold(parse(arguments));
    }

    public static void agentmain(String arguments, Instrumentation instrumentation) throws Exception {
        hold(parse(arguments));
    }

    static long parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("ballast: give a size, -javaagent:ballast.jar=600m");
        }
        String value = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = value.charAt(value.length() - 1);
        if (last == 'b') {
            value = value.substring(0, value.length() - 1);
            last = value.charAt(value.length() - 1);
        }
        if (last == 'k' || last == 'm' || last == 'g') {
            unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            value = value.substring(0, value.length() - 1);
        }
        long bytes = Math.multiplyExact(Long.parseLong(value.trim()), unit);
        if (bytes <= 0) {
            throw new IllegalArgumentException("ballast: the size must be positive, not " + text);
        }
        return bytes;
    }

    static void hold(long bytes) throws Exception {
        Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) field.get(null);
        long start = unsafe.allocateMemory(bytes);
        for (long offset = 0; offset < bytes; offset += PAGE) {
            unsafe.putByte(start + offset, (byte) 1);
        }
        unsafe.putByte(start + bytes - 1, (byte) 1);
        address = start;
        System.err.println("ballast: holding " + bytes + " bytes of native memory, every page touched");
    }
}
