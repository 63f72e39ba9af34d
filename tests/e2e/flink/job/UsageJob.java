// A small streaming job for the real node (tests/e2e/test_recommendations_on_node.py): numbers from a
// sequence, slowed to about 500 a second, keyed into 64 groups, counted in keyed state, discarded.
// It keeps a few objects on the heap and checkpoints every 5 s (so a TaskManager replaced by a rollout
// restarts the job instead of ending it). Compiled against lib/flink-dist*.jar of Flink 2.x.
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

public final class UsageJob {
    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(5000);
        env.fromSequence(0, Long.MAX_VALUE)
                .map(new Slow())
                .keyBy(new Group())
                .reduce(new Count())
                .sinkTo(new DiscardingSink<>());
        env.execute("usage-job");
    }

    public static final class Slow implements MapFunction<Long, Long> {
        @Override
        public Long map(Long value) throws Exception {
            Thread.sleep(2);
            return value;
        }
    }

    public static final class Group implements KeySelector<Long, Long> {
        @Override
        public Long getKey(Long value) {
            return value % 64;
        }
    }

    public static final class Count implements ReduceFunction<Long> {
        @Override
        public Long reduce(Long left, Long right) {
            return left + 1;
        }
    }
}
