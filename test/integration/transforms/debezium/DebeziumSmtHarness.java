import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs Debezium's own SMTs (the debezium-core jar the stack caches) on cases read from stdin and prints
 * what they produce, so erpstream's implementations can be compared with them. Each case:
 * {smt, config, schemas, key, value, headers:{name:string}} with key/value as JsonConverter text. Each
 * result: {dropped:true}, {topic, key, value, timestamp, headers:[[name, String.valueOf(value)]]}, or
 * {error, message}.
 */
public class DebeziumSmtHarness {
    static final String TOPIC = "erp.public.shipment";
    static final long TIMESTAMP = 1_700_000_000_900L;

    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode results = mapper.createArrayNode();
        for (JsonNode c : mapper.readTree(System.in)) {
            ObjectNode result = mapper.createObjectNode();
            try {
                Map<String, Object> conv = new HashMap<>();
                conv.put("schemas.enable", c.get("schemas").asBoolean());
                JsonConverter keys = new JsonConverter();
                keys.configure(conv, true);
                JsonConverter values = new JsonConverter();
                values.configure(conv, false);
                SchemaAndValue key = keys.toConnectData(TOPIC, bytes(c.get("key")));
                SchemaAndValue value = values.toConnectData(TOPIC, bytes(c.get("value")));
                ConnectHeaders headers = new ConnectHeaders();
                c.path("headers").fields().forEachRemaining(e -> headers.addString(e.getKey(), e.getValue().asText()));
                SourceRecord record = new SourceRecord(Collections.emptyMap(), Collections.emptyMap(), TOPIC, null,
                        key.schema(), key.value(), value.schema(), value.value(), TIMESTAMP, headers);
                @SuppressWarnings("rawtypes")
                Transformation smt = (Transformation) Class.forName(c.get("smt").asText()).getDeclaredConstructor().newInstance();
                @SuppressWarnings("unchecked")
                Map<String, Object> config = mapper.convertValue(c.get("config"), Map.class);
                smt.configure(config);
                @SuppressWarnings("unchecked")
                ConnectRecord<?> out = (ConnectRecord<?>) smt.apply(record);
                if (out == null) {
                    result.put("dropped", true);
                } else {
                    result.put("topic", out.topic());
                    result.put("key", text(keys.fromConnectData(out.topic(), out.keySchema(), out.key())));
                    result.put("value", text(values.fromConnectData(out.topic(), out.valueSchema(), out.value())));
                    if (out.timestamp() != null) result.put("timestamp", out.timestamp());
                    ArrayNode hs = result.putArray("headers");
                    for (Header h : out.headers()) hs.addArray().add(h.key()).add(String.valueOf(h.value()));
                }
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
