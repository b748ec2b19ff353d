package org.hibernate.agroal.internal;

/** Stands in for hibernate-agroal, whose jar the registry lacks: only its name is read. */
public final class AgroalConnectionProvider {
    private AgroalConnectionProvider() {}
}
