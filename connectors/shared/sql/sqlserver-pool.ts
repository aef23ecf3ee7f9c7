import mssql from 'mssql';
import { classifyDbError } from '../../../runtime/api/index.js';
import { type Row, type SqlClient, bindable } from './client.js';
import { type ConnectionOptions, sqlServerConnectionSettings } from './connection.js';
import { numberPlaceholders, sqlServerSyntax } from './syntax.js';

/**
 * SQL Server through `mssql`. Written against the same SqlClient contract as PostgreSQL and MySQL; its tests
 * run only where MSSQL_URL is set (SQL Server cannot run on our build machines).
 */
export class SqlServerClient implements SqlClient {
  readonly kind = 'sqlserver' as const;

  private constructor(
    private readonly pool: mssql.ConnectionPool,
    private readonly tx: mssql.Transaction | null,
  ) {}

  static async open(options: ConnectionOptions): Promise<SqlServerClient> {
    // The sink's historical defaults: no TLS unless the URL asks, and the server's certificate trusted.
    const pool = new mssql.ConnectionPool(
      sqlServerConnectionSettings(options, { encrypt: false, trustServerCertificate: true }),
    );
    try {
      await pool.connect();
    } catch (e) {
      throw classifyDbError(e, 'SQL Server connect');
    }
    return new SqlServerClient(pool, null);
  }

  quote(identifier: string): string {
    return sqlServerSyntax.quoteQualified(identifier);
  }

  private request(sql: string, params: readonly unknown[]): { req: mssql.Request; text: string } {
    const req = this.tx ? new mssql.Request(this.tx) : this.pool.request();
    params.forEach((p, i) => req.input(`p${i + 1}`, bindable(p)));
    return { req, text: numberPlaceholders(sql, sqlServerSyntax) };
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      const { req, text } = this.request(sql, params);
      return (await req.query(text)).recordset ?? [];
    } catch (e) {
      throw classifyDbError(e, 'SQL Server query');
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      const { req, text } = this.request(sql, params);
      const res = await req.query(text);
      return res.rowsAffected.reduce((a, b) => a + b, 0);
    } catch (e) {
      throw classifyDbError(e, 'SQL Server statement');
    }
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.tx) return fn(this);
    const tx = new mssql.Transaction(this.pool);
    await tx.begin();
    try {
      const result = await fn(new SqlServerClient(this.pool, tx));
      await tx.commit();
      return result;
    } catch (e) {
      await tx.rollback().catch(() => {});
      throw classifyDbError(e, 'SQL Server transaction');
    }
  }

  async close(): Promise<void> {
    if (!this.tx) await this.pool.close();
  }
}
