import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.apache.kafka.connect.converters.BooleanConverter;
import org.apache.kafka.connect.converters.DoubleConverter;
import org.apache.kafka.connect.converters.FloatConverter;
import org.apache.kafka.connect.converters.IntegerConverter;
import org.apache.kafka.connect.converters.LongConverter;
import org.apache.kafka.connect.converters.ShortConverter;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.storage.Converter;

/**
 * Runs Kafka Connect's own primitive converters. Input lines: "ser <Type> <value>" (the value as Java's
 * Type.valueOf reads it; the output is the hex of fromConnectData with no schema) or "de <Type> <hex>" (the
 * output is the value toConnectData reads, as toString). Either may answer "ERROR <exception class>".
 */
public class PrimitiveConvertersOracle {
    public static void main(String[] args) throws Exception {
        Map<String, Converter> converters = new HashMap<>();
        converters.put("Short", new ShortConverter());
        converters.put("Integer", new IntegerConverter());
        converters.put("Long", new LongConverter());
        converters.put("Float", new FloatConverter());
        converters.put("Double", new DoubleConverter());
        converters.put("Boolean", new BooleanConverter());
        for (Converter c : converters.values()) c.configure(new HashMap<>(), false);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            String[] p = line.split(" ", 3);
            Converter c = converters.get(p[1]);
            try {
                if (p[0].equals("ser")) {
                    Object v = switch (p[1]) {
                        case "Short" -> Short.valueOf(p[2]);
                        case "Integer" -> Integer.valueOf(p[2]);
                        case "Long" -> Long.valueOf(p[2]);
                        case "Float" -> Float.valueOf(p[2]);
                        case "Double" -> Double.valueOf(p[2]);
                        default -> Boolean.valueOf(p[2]);
                    };
                    out.println(HexFormat.of().formatHex(c.fromConnectData("t", null, v)));
                } else {
                    byte[] bytes = p.length > 2 ? HexFormat.of().parseHex(p[2]) : new byte[0];
                    SchemaAndValue sv = c.toConnectData("t", bytes);
                    out.println(sv.schema().type() + " " + sv.value());
                }
            } catch (Exception e) {
                out.println("ERROR " + e.getClass().getSimpleName());
            }
        }
    }
}
