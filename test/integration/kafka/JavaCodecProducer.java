import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes N records to a topic with Kafka's Java producer and the given compression.type (the peer a sink reads). */
public class JavaCodecProducer {
  public static void main(String[] args) throws Exception {
    String brokers = args[0], topic = args[1], codec = args[2];
    int n = Integer.parseInt(args[3]);
    Properties p = new Properties();
    p.put("bootstrap.servers", brokers);
    p.put("compression.type", codec);
    p.put("linger.ms", "50");
    p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < n; i++) {
        producer.send(new ProducerRecord<>(topic, 0, "k" + i, codec + "-" + i + "-" + "x".repeat(i % 50)));
      }
      producer.flush();
    }
  }
}
