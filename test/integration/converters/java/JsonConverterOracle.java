import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;

/**
 * Runs Kafka Connect's own JsonConverter over lines of JSON: each line is read with toConnectData and
 * written back with fromConnectData; the output line is what Java writes for that Connect data (or
 * "ERROR <exception>"). Args: decimal.format, schemas.enable.
 */
public class JsonConverterOracle {
    public static void main(String[] args) throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put("decimal.format", args[0]);
        config.put("schemas.enable", args[1]);
        JsonConverter converter = new JsonConverter();
        converter.configure(config, false);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            try {
                SchemaAndValue sv = converter.toConnectData("t", line.getBytes(StandardCharsets.UTF_8));
                byte[] bytes = converter.fromConnectData("t", sv.schema(), sv.value());
                out.println(bytes == null ? "null" : new String(bytes, StandardCharsets.UTF_8));
            } catch (Exception e) {
                out.println("ERROR " + e.toString().replace('\n', ' '));
            }
        }
    }
}
