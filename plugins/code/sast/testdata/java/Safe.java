// A hardened parser: the XXE rule must not fire in this file.
package com.example;

import javax.xml.parsers.DocumentBuilderFactory;

public class Safe {
    DocumentBuilderFactory factory() throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return dbf;
    }
}
