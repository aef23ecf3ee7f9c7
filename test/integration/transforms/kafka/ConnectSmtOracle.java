import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TimeZone;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Values;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.RegexRouter;
import org.apache.kafka.connect.transforms.TimestampConverter;
import org.apache.kafka.connect.transforms.TimestampRouter;

/**
 * Answers questions with Apache Kafka Connect's own code (connect-api / connect-transforms on the
 * classpath), one JSON request per stdin line, one JSON answer per stdout line. The differential test
 * compares erpstream's record-level SMTs with these answers.
 */
public class ConnectSmtOracle {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            JsonNode req = JSON.readTree(line);
            ObjectNode res = JSON.createObjectNode();
            try {
                answer(req, res);
            } catch (Throwable e) {
                res.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            System.out.println(JSON.writeValueAsString(res));
        }
    }

    private static SimpleDateFormat utc(String pattern) {
        SimpleDateFormat f = new SimpleDateFormat(pattern);
        f.setTimeZone(TimeZone.getTimeZone("UTC"));
        return f;
    }

    private static SourceRecord record(String topic, Object value, Long timestamp) {
        return new SourceRecord(null, null, topic, 0, null, null, null, value, timestamp);
    }

    private static void answer(JsonNode req, ObjectNode res) throws Exception {
        switch (req.get("op").asText()) {
            case "format":
                res.put("result", utc(req.get("pattern").asText()).format(new Date(req.get("ms").asLong())));
                break;
            case "parse":
                res.put("result", utc(req.get("pattern").asText()).parse(req.get("text").asText()).getTime());
                break;
            case "parseString": {
                SchemaAndValue sv = Values.parseString(req.get("literal").asText());
                if (sv == null || sv.schema() == null) {
                    res.putNull("type");
                } else {
                    res.put("type", sv.schema().type().getName());
                    res.put("name", sv.schema().name());
                }
                res.set("value", render(sv == null ? null : sv.value()));
                break;
            }
            case "regexRouter": {
                RegexRouter<SourceRecord> t = new RegexRouter<>();
                Map<String, String> props = new HashMap<>();
                props.put("regex", req.get("regex").asText());
                props.put("replacement", req.get("replacement").asText());
                t.configure(props);
                res.put("result", t.apply(record(req.get("topic").asText(), null, null)).topic());
                break;
            }
            case "timestampRouter": {
                TimestampRouter<SourceRecord> t = new TimestampRouter<>();
                Map<String, String> props = new HashMap<>();
                props.put("topic.format", req.get("topicFormat").asText());
                props.put("timestamp.format", req.get("timestampFormat").asText());
                t.configure(props);
                res.put("result", t.apply(record(req.get("topic").asText(), null, req.get("ms").asLong())).topic());
                break;
            }
            case "timestampConverter": {
                TimestampConverter<SourceRecord> t = new TimestampConverter.Value<>();
                Map<String, String> props = new HashMap<>();
                Iterator<Map.Entry<String, JsonNode>> it = req.get("config").fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> e = it.next();
                    props.put(e.getKey(), e.getValue().asText());
                }
                t.configure(props);
                res.set("result", render(t.apply(record("t", input(req.get("value")), null)).value()));
                break;
            }
            default:
                throw new IllegalArgumentException("unknown op " + req.get("op"));
        }
    }

    /** {"long": "123"} | {"string": "..."} | {"date": 123} */
    private static Object input(JsonNode v) {
        if (v.has("long")) return Long.parseLong(v.get("long").asText());
        if (v.has("string")) return v.get("string").asText();
        return new Date(v.get("date").asLong());
    }

    private static JsonNode render(Object v) {
        ObjectNode n = JSON.createObjectNode();
        if (v == null) return JSON.nullNode();
        if (v instanceof Date) n.put("date", ((Date) v).getTime());
        else if (v instanceof BigDecimal) n.put("decimal", ((BigDecimal) v).toPlainString());
        else if (v instanceof Long) n.put("long", v.toString());
        else if (v instanceof Number) n.put("number", v.toString());
        else if (v instanceof Boolean) n.put("boolean", (Boolean) v);
        else n.put("string", v.toString());
        return n;
    }
}
