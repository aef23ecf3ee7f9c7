import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs Apache Kafka Connect's own SMTs on cases read from stdin (a JSON array) and prints what they
 * produce, serialized with Connect's JsonConverter, so the erpstream implementations can be compared
 * with the real ones. Each case: {smt, config, schemas, converter, sink, key, value} where key/value are
 * the JsonConverter bytes as a string (or null) and converter holds extra JsonConverter settings. Each result: {key, value} or {error, message}.
 */
public class ConnectSmtHarness {
    private static final String TOPIC = "erp.dbo.shipment";
    private static final int PARTITION = 2;
    private static final long OFFSET = 1234L;
    private static final long TIMESTAMP = 1_700_000_000_123L;

    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode cases = mapper.readTree(System.in);
        ArrayNode results = mapper.createArrayNode();
        for (JsonNode c : cases) {
            ObjectNode result = mapper.createObjectNode();
            try {
                Map<String, Object> convConfig = new HashMap<>();
                convConfig.put("schemas.enable", c.get("schemas").asBoolean());
                c.path("converter").fields().forEachRemaining(e -> convConfig.put(e.getKey(), e.getValue().asText()));
                JsonConverter keyConverter = new JsonConverter();
                keyConverter.configure(convConfig, true);
                JsonConverter valueConverter = new JsonConverter();
                valueConverter.configure(convConfig, false);
                SchemaAndValue key = keyConverter.toConnectData(TOPIC, bytes(c.get("key")));
                SchemaAndValue value = valueConverter.toConnectData(TOPIC, bytes(c.get("value")));
                ConnectRecord<?> record = c.path("sink").asBoolean()
                    ? new SinkRecord(TOPIC, PARTITION, key.schema(), key.value(), value.schema(), value.value(), OFFSET, TIMESTAMP, TimestampType.CREATE_TIME)
                    : new SourceRecord(Collections.emptyMap(), Collections.emptyMap(), TOPIC, PARTITION, key.schema(), key.value(), value.schema(), value.value(), TIMESTAMP);
                @SuppressWarnings("rawtypes")
                Transformation smt = (Transformation) Class.forName(c.get("smt").asText()).getDeclaredConstructor().newInstance();
                @SuppressWarnings("unchecked")
                Map<String, Object> config = mapper.convertValue(c.get("config"), Map.class);
                smt.configure(config);
                @SuppressWarnings("unchecked")
                ConnectRecord<?> out = (ConnectRecord<?>) smt.apply(record);
                result.put("key", text(keyConverter.fromConnectData(TOPIC, out.keySchema(), out.key())));
                result.put("value", text(valueConverter.fromConnectData(TOPIC, out.valueSchema(), out.value())));
            } catch (Throwable e) {
                result.put("error", e.getClass().getSimpleName());
                result.put("message", String.valueOf(e.getMessage()));
            }
            results.add(result);
        }
        System.out.println(mapper.writeValueAsString(results));
    }

    private static byte[] bytes(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText().getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
